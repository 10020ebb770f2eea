"""The LLM planner: an OpenAI-compatible chat model works an incident through the workbench.

The model chooses runbooks, tools and parameters; the workbench decides what is
allowed (policy gate, validation before resolving, rollback on escalation), so a
model can be wrong but never unsafe in a way the rule agent is not. Every tool call,
including a malformed one, counts toward a step budget; a bad call gets a one-line
error back so the model can correct itself; when the budget runs out the ticket is
escalated. Each turn of the conversation is stored on the incident's ticket
(`ticket_events`, kind `llm`), which `netops-agent audit` shows.

Works with any server that speaks chat completions with tool calling (llama.cpp
server, Ollama, vLLM, LM Studio, hosted APIs) through the `openai` client.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from typing import Any

from netops_agent.agents import toolspec
from netops_agent.agents.workbench import ToolCallError, Workbench
from netops_agent.errors import ConfigError, NetopsError
from netops_agent.models import Incident

log = logging.getLogger("netops_agent.llm")

MAX_RESULT_CHARS = 6000
SYSTEM = """You are a careful network operations engineer working one incident in a lab of \
Cisco-IOS-like routers. You see the network only through your tools.

Work like this:
1. Read the incident (given below). search_runbooks with its title and summary; get_runbook for \
the best candidates.
2. Confirm a diagnosis with evidence: check_runbook (evidence section) and/or read-only show tools. \
Do not act on a runbook whose evidence does not hold.
3. Fix with propose_change, one step at a time (the runbook's remediation steps, filled from the \
incident's context). A change may come back approval_required or denied: then escalate.
4. validate (with the runbook id) after your last change. Only if it passed, update_ticket \
state=resolved with the runbook_id and a diagnosis {"type": fault type, "target": {...}}.
5. If nothing is wrong any more without any change, validate (no runbook) and close the ticket \
(state=closed). If you cannot fix it remotely, or validation fails, update_ticket \
state=escalated with the reason (your unvalidated changes are rolled back for you).
Always finish by updating the ticket. Be brief."""


@dataclass(frozen=True)
class LlmConfig:
    base_url: str
    model: str
    api_key: str = "not-needed"
    max_steps: int = 30
    timeout_s: float = 120.0
    temperature: float = 0.0

    @classmethod
    def from_args(cls, args: dict[str, Any]) -> LlmConfig:
        """CLI arguments first, then NETOPS_LLM_* environment; one clear line if unset."""
        base_url = args.get("llm_base_url") or os.environ.get("NETOPS_LLM_BASE_URL")
        model = args.get("llm_model") or os.environ.get("NETOPS_LLM_MODEL")
        if not base_url or not model:
            missing = " and ".join(
                n for n, v in (("--llm-base-url", base_url), ("--llm-model", model)) if not v
            )
            raise ConfigError(
                f"--agent llm needs {missing} (or $NETOPS_LLM_BASE_URL / $NETOPS_LLM_MODEL), "
                "e.g. --llm-base-url http://127.0.0.1:8080/v1 --llm-model NAME (docs/agents.md)"
            )
        return cls(
            base_url=base_url,
            model=model,
            api_key=args.get("llm_api_key") or os.environ.get("NETOPS_LLM_API_KEY") or "not-needed",
            max_steps=int(args.get("max_steps") or 30),
            timeout_s=float(args.get("llm_timeout_s") or 120.0),
        )


def openai_tools() -> list[dict[str, Any]]:
    """The catalogue as OpenAI function tools (the incident is bound, not an argument)."""
    return [
        {
            "type": "function",
            "function": {
                "name": s.name,
                "description": s.description,
                "parameters": s.schema(with_incident=False),
            },
        }
        for s in toolspec.catalogue().values()
        if s.name != "list_incidents"
    ]


class Planner:
    def __init__(self, wb: Workbench, config: LlmConfig) -> None:
        import openai

        self.wb = wb
        self.config = config
        self.client = openai.OpenAI(
            base_url=config.base_url, api_key=config.api_key, timeout=config.timeout_s, max_retries=0
        )
        self.tools = openai_tools()

    def work(self, incident: Incident, ticket_id: str) -> list[dict[str, Any]]:
        """Run the conversation until the ticket is closed, the model stops, or the budget ends."""
        import openai

        brief = self.wb.get_incident(incident.id)
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": "Incident to work:\n" + json.dumps(brief, default=str)},
        ]
        steps = 0
        while steps < self.config.max_steps:
            try:
                resp = self.client.chat.completions.create(
                    model=self.config.model,
                    messages=messages,  # type: ignore[arg-type]
                    tools=self.tools,  # type: ignore[arg-type]
                    tool_choice="auto",
                    temperature=self.config.temperature,
                )
            except openai.OpenAIError as exc:
                self._record(ticket_id, "error", f"LLM endpoint failed: {exc}", None)
                self._escalate(incident, f"the LLM endpoint {self.config.base_url} failed: {exc}")
                return messages
            msg = resp.choices[0].message
            turn = _assistant(msg)
            messages.append(turn)
            self._record(ticket_id, "assistant", _summary(turn), turn)
            if not msg.tool_calls:
                steps += 1
                if self._closed(ticket_id):
                    return messages
                messages.append(
                    {"role": "user", "content": "The ticket is still open: finish with update_ticket."}
                )
                continue
            for call in msg.tool_calls:
                steps += 1
                content = self._call(incident, call.function.name, call.function.arguments)
                messages.append({"role": "tool", "tool_call_id": call.id, "content": content})
                self._record(
                    ticket_id, "tool", f"{call.function.name} -> {content[:200]}", {"content": content}
                )
            if self._closed(ticket_id):
                return messages
        if not self._closed(ticket_id):
            self._escalate(incident, f"the LLM planner used its step budget ({self.config.max_steps}) "
                                     "without closing the ticket")  # fmt: skip
        return messages

    def _call(self, incident: Incident, name: str, raw_args: str | None) -> str:
        try:
            args = json.loads(raw_args or "{}")
            if not isinstance(args, dict):
                raise ValueError("expected a JSON object")
        except ValueError as exc:
            return f"ERROR: arguments of {name} are not a JSON object ({exc}); send valid JSON"
        try:
            result = toolspec.call(self.wb, name, args, incident=incident.id)
        except ToolCallError as exc:
            return f"ERROR: {exc}"
        except NetopsError as exc:
            return f"ERROR: {exc}"
        text = json.dumps(result, default=str)
        if len(text) > MAX_RESULT_CHARS:
            text = text[:MAX_RESULT_CHARS] + " ...(truncated)"
        return text

    def _closed(self, ticket_id: str) -> bool:
        return self.wb.tickets.get(ticket_id)["state"] in (
            "resolved",
            "escalated",
            "closed",
            "awaiting_approval",
        )

    def _escalate(self, incident: Incident, reason: str) -> None:
        with self.wb.lock:
            self.wb.update_ticket(incident.id, "escalated", reason)

    def _record(self, ticket_id: str, role: str, note: str, data: Any) -> None:
        self.wb.tickets.work_note(
            ticket_id,
            f"{role}: {note}"[:500],
            self.wb.net.now(),
            kind="llm",
            author=f"llm:{self.config.model}",
            data=data,
        )


def _assistant(msg: Any) -> dict[str, Any]:
    turn: dict[str, Any] = {"role": "assistant", "content": msg.content or ""}
    if msg.tool_calls:
        turn["tool_calls"] = [
            {
                "id": c.id,
                "type": "function",
                "function": {"name": c.function.name, "arguments": c.function.arguments},
            }
            for c in msg.tool_calls
        ]
    return turn


def _summary(turn: dict[str, Any]) -> str:
    calls = turn.get("tool_calls") or []
    if calls:
        return "; ".join(f"{c['function']['name']}({c['function']['arguments']})" for c in calls)
    return turn.get("content") or "(empty reply)"
