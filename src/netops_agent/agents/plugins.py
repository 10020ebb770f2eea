"""The `llm` and `external` agents for the case pipeline (in `pipeline.registry.AGENTS`).

Both hand the incident to something outside our code through the same `Workbench`:
- ``llm``: the planner in `agents.llm` talks to an OpenAI-compatible endpoint;
- ``external``: for each incident, an MCP server for the case's lab is started on a
  free loopback port and the command given with ``--agent-cmd`` runs with
  ``NETOPS_MCP_URL``, ``NETOPS_INCIDENT_ID`` and ``NETOPS_TICKET_ID`` in its
  environment; the harness waits for it (or its timeout) and scores as usual.

Whatever the agent leaves open is escalated (and its unvalidated changes rolled back).
Agent options travel in `RunOptions.agent_args` (picklable, so `--jobs N` works).
"""

from __future__ import annotations

import logging
import os
import shlex
import subprocess
from typing import Any

from netops_agent.agent import Outcome
from netops_agent.agents.workbench import Rules, Workbench
from netops_agent.audit import StoreRecorder
from netops_agent.errors import ConfigError
from netops_agent.lab.base import NetworkView
from netops_agent.models import Incident
from netops_agent.services import Services

log = logging.getLogger("netops_agent.agents")

DEFAULT_TIMEOUT_S = 300.0
LLM_ENV = ("NETOPS_LLM_BASE_URL", "NETOPS_LLM_MODEL", "NETOPS_LLM_API_KEY")


def workbench(view: NetworkView, svc: Services, options: Any, name: str) -> Workbench:
    ungated = bool(options.agent_args.get("ungated"))
    return Workbench(
        view,
        store=svc.store,
        runbooks=svc.runbooks,
        retriever=svc.retriever,
        tickets=svc.tickets,
        policy=options.policy,
        recorder=StoreRecorder(svc.store),
        rules=Rules(gated=not ungated, require_validation=not ungated),
        agent_name=name,
    )


class ExternalAgent:
    """Runs a command per incident against an MCP server for this lab."""

    def __init__(self, wb: Workbench, cmd: str, timeout_s: float) -> None:
        self.wb = wb
        self.argv = shlex.split(cmd)
        self.timeout_s = timeout_s

    def handle(self, incident: Incident, ticket_id: str) -> Outcome:
        from netops_agent.mcp_server.server import HttpServer

        self.wb.begin(incident, ticket_id)
        with HttpServer(self.wb) as server:
            env = os.environ | {
                "NETOPS_MCP_URL": server.url,
                "NETOPS_INCIDENT_ID": incident.id,
                "NETOPS_TICKET_ID": ticket_id,
            }
            self._run(env, incident, ticket_id)
        return self.wb.finish(incident, ticket_id)

    def _run(self, env: dict[str, str], incident: Incident, ticket_id: str) -> None:
        try:
            proc = subprocess.Popen(
                self.argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
        except OSError as exc:
            self._note(ticket_id, f"external agent could not start: {exc}")
            return
        try:
            out, err = proc.communicate(timeout=self.timeout_s)
        except subprocess.TimeoutExpired:
            proc.terminate()
            try:
                out, err = proc.communicate(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, err = proc.communicate()
            self._note(ticket_id, f"external agent timed out after {self.timeout_s:.0f} s and was stopped")
        for line in (out or "").splitlines()[-20:]:
            log.info("[%s] external: %s", incident.id, line)
        if proc.returncode:
            tail = " | ".join((err or "").strip().splitlines()[-3:])
            self._note(ticket_id, f"external agent exited with status {proc.returncode}: {tail}")

    def _note(self, ticket_id: str, note: str) -> None:
        log.warning("%s: %s", ticket_id, note)
        self.wb.tickets.work_note(ticket_id, note, self.wb.net.now(), author="harness")


class LlmAgent:
    """The LLM planner, one incident at a time."""

    def __init__(self, wb: Workbench, args: dict[str, Any]) -> None:
        from netops_agent.agents.llm import LlmConfig, Planner

        self.wb = wb
        self.planner = Planner(wb, LlmConfig.from_args(args))

    def handle(self, incident: Incident, ticket_id: str) -> Outcome:
        self.wb.begin(incident, ticket_id)
        self.planner.work(incident, ticket_id)
        return self.wb.finish(incident, ticket_id)


def _external(view: NetworkView, svc: Services, options: Any) -> ExternalAgent:
    args = options.agent_args
    check_args("external", args)
    wb = workbench(view, svc, options, "external")
    return ExternalAgent(wb, args["agent_cmd"], float(args.get("timeout_s") or DEFAULT_TIMEOUT_S))


def _llm(view: NetworkView, svc: Services, options: Any) -> LlmAgent:
    check_args("llm", options.agent_args)
    return LlmAgent(workbench(view, svc, options, "llm"), options.agent_args)


def check_args(agent: str, args: dict[str, Any]) -> None:
    """Fail before anything runs when an agent lacks what it needs (one line, how to fix)."""
    if agent == "external" and not args.get("agent_cmd"):
        raise ConfigError('--agent external needs --agent-cmd "COMMAND" (run once per incident)')
    if agent == "llm":
        from netops_agent.agents.llm import LlmConfig

        LlmConfig.from_args(args)  # raises ConfigError naming the missing setting


PLUGINS = {"external": _external, "llm": _llm}
