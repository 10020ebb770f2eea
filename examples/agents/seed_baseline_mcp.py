"""A minimal external agent over MCP that reproduces the `seed-baseline` strategy.

Strategy (as evaluation/baselines.py): take the top-1 runbook for the incident text,
fill its remediation steps from the incident's context (reading the runbook's
evidence once if a step needs a captured value), apply them, and mark the ticket
resolved. It uses only what any MCP client sees: the tools and their results.

Run by the harness, once per incident:

    netops-agent eval --suite catalog --agent external \
        --agent-cmd "python examples/agents/seed_baseline_mcp.py"

The harness sets NETOPS_MCP_URL (Streamable HTTP) and NETOPS_INCIDENT_ID. Without
NETOPS_INCIDENT_ID the agent works every open incident. On a gated server (the
default) resolving without validation is refused, so the agent validates and then
resolves or escalates; with `--ungated` it behaves exactly like the in-process
baseline, which is how the interface is shown to be faithful.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from typing import Any

from mcp import Client

PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


class Missing(KeyError):
    """A step needs a context value the incident does not have (yet)."""


class ToolFailed(Exception):
    """The server answered a call with an error result."""


def fill(value: Any, ctx: dict[str, Any]) -> Any:
    """{name} placeholders from the context; a whole-string placeholder keeps its type."""
    if isinstance(value, dict):
        return {k: fill(v, ctx) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, ctx) for v in value]
    if not isinstance(value, str):
        return value

    def get(name: str) -> Any:
        if ctx.get(name) in (None, ""):
            raise Missing(name)
        return ctx[name]

    whole = PLACEHOLDER.fullmatch(value)
    if whole:
        return get(whole.group(1))
    return PLACEHOLDER.sub(lambda m: str(get(m.group(1))), value)


def plan(runbook: dict[str, Any], ctx: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]] | None:
    try:
        return [(s["tool"], fill(s["device"], ctx), fill(s["params"], ctx)) for s in runbook["remediation"]]
    except Missing:
        return None


class Agent:
    def __init__(self, client: Client) -> None:
        self.c = client
        self.read_tools: set[str] = set()

    async def call(self, name: str, **args: Any) -> Any:
        result = await self.c.call_tool(name, args)
        if result.is_error:
            raise ToolFailed(result.content[0].text if result.content else name)
        data = result.structured_content or {}
        return data.get("items", data) if set(data) == {"items"} else data

    async def escalate(
        self, inc: str, reason: str, group: str, rb: str | None = None, diag: Any = None
    ) -> None:
        await self.call("update_ticket", incident_id=inc, state="escalated", reason=reason, group=group,
                        runbook_id=rb, diagnosis=diag)  # fmt: skip

    async def resolve(self, inc: str, reason: str, rb: str, diag: Any) -> None:
        await self.call(
            "update_ticket", incident_id=inc, state="resolved", reason=reason, runbook_id=rb, diagnosis=diag
        )

    async def work(self, inc: str) -> None:
        info = await self.call("get_incident", incident_id=inc)
        incident, ctx = info["incident"], dict(info["contexts"][0])
        query = f"{incident['title']}. {incident['summary']}"
        hits = await self.call("search_runbooks", incident_id=inc, query=query, k=50)
        if not hits:
            return await self.escalate(inc, "no runbook matched the incident text", "network-operations")
        rb = await self.call("get_runbook", runbook_id=hits[0]["id"])
        diag = {"type": rb["fault_types"][0], "target": {k: ctx.get(k) for k in rb["target_keys"]}}
        if not rb["remediation"]:
            esc = rb.get("escalate") or {
                "reason": "the runbook has no remediation",
                "group": rb["assignment_group"],
            }
            return await self.escalate(inc, esc["reason"], esc["group"], rb["id"], diag)
        steps = plan(rb, ctx)
        if steps is None:  # values a runbook captures come from its own evidence reads
            checked = await self.call(
                "check_runbook", incident_id=inc, runbook_id=rb["id"], section="evidence"
            )
            ctx.update(checked["captured"])
            steps = plan(rb, ctx)
        if steps is None:
            reason = "the runbook's remediation needs context this incident lacks"
            return await self.escalate(inc, reason, rb["assignment_group"], rb["id"], diag)
        for tool, device, params in steps:
            if tool in self.read_tools:
                res = await self.call(tool, incident_id=inc, device=device, **params)
            else:
                res = await self.call(
                    "propose_change", incident_id=inc, tool=tool, device=device, params=params,
                    runbook_id=rb["id"], reason=rb["title"], diagnosis=diag,
                )  # fmt: skip
            if res["status"] == "approval_required":  # a human decides; the ticket waits for them
                print(f"{inc}: waiting for approval {res['approval_id']}")
                return None
            if res["status"] not in ("applied", "unchanged", "ok"):
                why = f"{tool} on {device} failed ({res['status']}: {res.get('error', '')})"
                return await self.escalate(inc, why, rb["assignment_group"], rb["id"], diag)
        reason = f"{rb['title']}: runbook applied ({len(steps)} step(s)); not re-checked"
        try:
            await self.resolve(inc, reason, rb["id"], diag)
        except ToolFailed:  # a gated server wants proof first
            check = await self.call("validate", incident_id=inc, runbook_id=rb["id"])
            if check["passed"]:
                await self.resolve(inc, f"{rb['title']}: runbook applied and validated", rb["id"], diag)
            else:
                why = "validation failed after the runbook's fix"
                await self.escalate(inc, why, rb["assignment_group"], rb["id"], diag)

    async def run(self) -> None:
        # Change tools are not listed: they go through propose_change. Listed ones are called directly.
        self.read_tools = {t.name for t in (await self.c.list_tools()).tools}
        only = os.environ.get("NETOPS_INCIDENT_ID")
        todo = [only] if only else [i["id"] for i in await self.call("list_incidents")]
        for inc in todo:
            await self.work(inc)


async def main() -> int:
    url = os.environ.get("NETOPS_MCP_URL")
    if not url:
        print("set NETOPS_MCP_URL to the server's URL (the eval harness does)", file=sys.stderr)
        return 2
    async with Client(url) as client:
        await Agent(client).run()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
