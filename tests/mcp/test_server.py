"""The MCP server through the SDK's own client: Streamable HTTP on loopback and stdio."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mcp import Client, StdioServerParameters
from netops_agent.agent import Outcome
from netops_agent.agents import plugins
from netops_agent.lab.sim import persist
from netops_agent.lab.sim.lab import SimLab
from netops_agent.mcp_server.server import HttpServer
from netops_agent.models import FaultSpec, Incident
from netops_agent.pipeline import AGENTS, RunOptions, Services
from netops_agent.pipeline.interactive import lab_control
from netops_agent.safety.approvals import ApprovalService
from netops_agent.store import Store
from netops_agent.tools.registry import TOOLS
from tests.helpers import one_case_with_lab, run_coroutine


class _Hold:
    """An agent that leaves every incident as it is, so the test can serve it."""

    def handle(self, incident: Incident, ticket_id: str) -> Outcome:
        return Outcome(incident, ticket_id)


@pytest.fixture(scope="module")
def served():
    """One small twin with a shut interface, its incident ticketed, served over HTTP."""
    AGENTS["hold"] = lambda view, svc, options: _Hold()
    try:
        result, store, ctl = one_case_with_lab({"type": "interface_admin_down"}, agent_name="hold")
    finally:
        del AGENTS["hold"]
    assert len(result.incidents) == 1
    wb = plugins.workbench(ctl.view(), Services.open(store), RunOptions(), "mcp-test")
    with HttpServer(wb) as server:
        yield server, store, ctl, result, result.incidents[0]
    store.close()


def _run(coro: Any) -> Any:
    return run_coroutine(coro)


async def _call(c: Client, name: str, **args: Any) -> tuple[bool, Any]:
    r = await c.call_tool(name, args)
    if r.is_error:
        return True, r.content[0].text
    data = r.structured_content or {}
    return False, data.get("items", data) if set(data) == {"items"} else data


def test_http_tools_resources_gate_and_validation(served) -> None:
    server, store, ctl, result, inc = served

    async def session() -> dict[str, Any]:
        seen: dict[str, Any] = {}
        async with Client(server.url) as c:
            tools = {t.name: t for t in (await c.list_tools()).tools}
            seen["tools"] = tools
            seen["resources"] = [str(r.uri) for r in (await c.list_resources()).resources]
            inv = await c.read_resource("netops://inventory")
            seen["inventory"] = json.loads(inv.contents[0].text)
            seen["incidents"] = (await _call(c, "list_incidents"))[1]
            seen["incident"] = (await _call(c, "get_incident", incident_id=inc.id))[1]
            ctx = seen["incident"]["contexts"]
            # find the end that is shut, with a read-only tool (parsed rows + raw text)
            for cx in ctx:
                err, res = await _call(c, "show_interfaces", incident_id=inc.id, device=cx["device"],
                                       interface=cx["interface"])  # fmt: skip
                assert not err and res["raw"] and res["parsed"]
                if res["parsed"][0]["link_status"] == "administratively down":
                    end = cx
            seen["end"] = end
            peer = ctx[0].get("peer") or "10.0.0.1"
            # a high-risk change needs a human: approval_required with an approval id
            high = {
                "tool": "set_bgp_max_prefix",
                "device": end["device"],
                "params": {"peer": peer, "limit": 5000},
            }
            seen["high"] = (await _call(c, "propose_change", incident_id=inc.id, **high))[1]
            ApprovalService(store).decide(seen["high"]["approval_id"], True, "alice", "ok", ctl.now())
            seen["approved"] = (await _call(c, "propose_change", incident_id=inc.id,
                                            approval_id=seen["high"]["approval_id"], **high))[1]  # fmt: skip
            fix = {"tool": "interface_no_shutdown", "device": end["device"],
                   "params": {"interface": end["interface"]}}  # fmt: skip
            seen["fix"] = (await _call(c, "propose_change", incident_id=inc.id, **fix))[1]
            seen["early"] = await _call(
                c, "update_ticket", incident_id=inc.id, state="resolved", reason="done"
            )
            seen["validate"] = (
                await _call(c, "validate", incident_id=inc.id, runbook_id="RB-IF-ADMIN-DOWN")
            )[1]
            seen["resolve"] = await _call(
                c, "update_ticket", incident_id=inc.id, state="resolved", reason="no shutdown; validated",
                runbook_id="RB-IF-ADMIN-DOWN",
            )  # fmt: skip
            seen["bad"] = await _call(
                c, "ping", incident_id=inc.id, device=end["device"], destination="1.2.3.4; reload"
            )
        return seen

    seen = _run(session())
    tools = seen["tools"]
    reads = {t.name for t in TOOLS if not t.changes_network}
    assert reads <= set(tools) and not {t.name for t in TOOLS if t.changes_network} & set(tools)
    assert {"get_incident", "search_runbooks", "propose_change", "validate", "update_ticket"} <= set(tools)
    assert tools["ping"].input_schema["properties"]["count"]["maximum"] == 100
    assert (
        "netops://inventory" in seen["resources"]
        and "netops://runbooks/RB-IF-ADMIN-DOWN" in seen["resources"]
    )
    assert {d["name"] for d in seen["inventory"]["devices"]} == set(ctl.inventory().device_names())
    assert [i["id"] for i in seen["incidents"]] == [inc.id]
    assert seen["incident"]["alerts"] and seen["incident"]["ticket"]["state"] == "in_progress"
    assert seen["high"]["status"] == "approval_required" and seen["high"]["approval_id"].startswith("A-")
    assert seen["approved"]["status"] == "applied"
    assert seen["fix"]["status"] == "applied"
    assert seen["early"][0] and "refused" in seen["early"][1]
    assert seen["validate"]["passed"] is True
    assert seen["resolve"] == (False, {"ticket": "INC0000001", "state": "resolved", "rolled_back": False})
    assert seen["bad"][0] and "invalid arguments for ping" in seen["bad"][1]
    assert not any(ctl.fault_present(f) for f in result.faults)
    # everything went through the executor and the gate, and is in the audit trail
    decisions = store.query("SELECT tool, decision FROM policy_decisions WHERE incident_id = ?", [inc.id])
    assert ("set_bgp_max_prefix", "approval") in {(d["tool"], d["decision"]) for d in decisions}
    assert store.scalar("SELECT count(*) FROM tool_calls WHERE incident_id = ? AND tool = 'show_interfaces'",
                        [inc.id]) >= 2  # fmt: skip
    assert store.scalar("SELECT state FROM approvals") == "executed"


def test_stdio_server_from_the_cli(tmp_path: Path) -> None:
    env = {**os.environ, "NETOPS_DB": str(tmp_path / "lab.duckdb"), "NETOPS_LOG": str(tmp_path / "log")}
    lab = SimLab.build("small", 42)  # what `lab up` + `lab inject` leave in the database
    lab.advance(60)
    with Store(tmp_path / "lab.duckdb") as store:
        persist.save(lab, store, fresh=True)
        with lab_control(store, with_truth=True) as ctl:
            ctl.inject(FaultSpec(type="bgp_neighbor_shutdown"), seed=1)
            ctl.advance(120)

    async def session() -> dict[str, Any]:
        params = StdioServerParameters(
            command=sys.executable, args=["-m", "netops_agent.cli.app", "mcp"], env=env
        )
        async with Client(params) as c:
            incidents = (await _call(c, "list_incidents"))[1]
            inc = incidents[0]["id"]
            hits = (await _call(c, "search_runbooks", incident_id=inc, query=incidents[0]["title"], k=3))[1]
            book = await c.read_resource(f"netops://runbooks/{hits[0]['id']}")
            close = await _call(c, "update_ticket", incident_id=inc, state="closed", reason="looks fine")
            return {
                "incidents": incidents,
                "hits": hits,
                "book": json.loads(book.contents[0].text),
                "close": close,
            }

    seen = _run(session())
    assert seen["incidents"] and seen["incidents"][0]["ticket_state"] == "new"
    assert seen["hits"][0]["id"] == "RB-BGP-ADMIN-SHUT" and seen["book"]["id"] == "RB-BGP-ADMIN-SHUT"
    assert seen["close"][0] and "refused" in seen["close"][1]
    with Store(tmp_path / "lab.duckdb") as store:  # the server released the file and left its records
        assert store.scalar("SELECT state FROM tickets") == "in_progress"
        assert store.scalar("SELECT count(*) FROM ticket_events WHERE author = 'mcp-client'") >= 1


def test_mcp_rejects_an_unknown_transport_in_one_line(tmp_path: Path) -> None:
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "netops_agent.cli.app",
            "mcp",
            "--transport",
            "sse",
            "--db",
            str(tmp_path / "x"),
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode != 0 and "--transport stdio or --transport http" in r.stderr
    assert "Traceback" not in r.stderr
