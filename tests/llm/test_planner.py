"""The LLM planner against a scripted OpenAI-compatible server (real HTTP, real client).

Each test replays a conversation and checks what the workbench let happen: the
policy gate, validation before resolving, rollback, and the step budget hold whatever
the model says.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from netops_agent.audit import timeline
from tests.helpers import one_case_with_lab, present
from tests.llm.scripted_openai import ScriptedServer, call, incident, say

FAULT = {"type": "interface_admin_down"}


@pytest.fixture(scope="module")
def llm():
    with ScriptedServer() as server:
        yield server


def _run(server: ScriptedServer, *, max_steps: int = 30, fault: dict[str, Any] | None = None):
    args = {"llm_base_url": server.base_url, "llm_model": "scripted", "max_steps": max_steps}
    result, store, ctl = one_case_with_lab(fault or FAULT, agent_name="llm", agent_args=args)
    assert len(result.outcomes) == 1
    result.ctl = ctl  # type: ignore[attr-defined]  (the test reads the network afterwards)
    return result, store, result.outcomes[0]


def _ctx(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return incident(messages)["contexts"][0]


def _admin_down_end(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The orientation whose evidence held (the check_runbook results so far)."""
    brief = incident(messages)
    for m in messages:
        if m["role"] == "tool" and m["content"].startswith("{") and '"section": "evidence"' in m["content"]:
            res = json.loads(m["content"])
            if res["all_hold"]:
                return brief["contexts"][res["orientation"]]
    raise AssertionError("no orientation held")


def _fix(messages: list[dict[str, Any]]) -> dict[str, Any]:
    c = _admin_down_end(messages)
    return call(
        "propose_change",
        {"tool": "interface_no_shutdown", "device": c["device"], "params": {"interface": c["interface"]}},
    )


def _resolve(messages: list[dict[str, Any]]) -> dict[str, Any]:
    c = _admin_down_end(messages)
    diagnosis = {
        "type": "interface_admin_down",
        "target": {"device": c["device"], "interface": c["interface"]},
    }
    return call(
        "update_ticket",
        {"state": "resolved", "reason": "no shutdown restored it", "runbook_id": "RB-IF-ADMIN-DOWN",
         "diagnosis": diagnosis},
    )  # fmt: skip


def test_correct_diagnosis_and_fix_is_validated_resolved_and_transcribed(llm: ScriptedServer) -> None:
    llm.play(
        lambda m: call("search_runbooks", {"query": incident(m)["incident"]["title"]}),
        call("check_runbook", {"runbook_id": "RB-IF-ADMIN-DOWN", "orientation": 0}),
        call("check_runbook", {"runbook_id": "RB-IF-ADMIN-DOWN", "orientation": 1}),
        _fix,
        call("validate", {"runbook_id": "RB-IF-ADMIN-DOWN"}),
        _resolve,
        say("Done."),
    )
    result, store, out = _run(llm)
    assert out.outcome == "resolved" and out.validated
    assert out.runbook == "RB-IF-ADMIN-DOWN" and out.diagnosis["type"] == "interface_admin_down"
    assert not present(result)
    assert out.retrieved and out.retrieved[0].id == "RB-IF-ADMIN-DOWN"
    validate_result = json.loads(llm.tool_messages()[4])
    assert validate_result["passed"] is True
    # the conversation is stored with the incident and shown by `audit`
    events = timeline(store, out.incident.id)
    llm_rows = [e for e in events if e["kind"] == "ticket:llm"]
    assert len(llm_rows) >= 12 and any("propose_change" in e["what"] for e in llm_rows)
    assert store.scalar("SELECT count(*) FROM changes WHERE status = 'applied'") == 1


def test_wrong_fix_fails_validation_is_refused_and_rolled_back(llm: ScriptedServer) -> None:
    def wrong(m: list[dict[str, Any]]) -> dict[str, Any]:
        c = _ctx(m)
        return call("propose_change", {"tool": "set_mtu", "device": c["device"],
                                       "params": {"interface": c["interface"], "mtu": 9000}})  # fmt: skip

    llm.play(
        wrong,
        call("validate", {"runbook_id": "RB-IF-ADMIN-DOWN"}),
        call("update_ticket", {"state": "resolved", "reason": "mtu fixed it"}),
        call("update_ticket", {"state": "escalated", "reason": "my fix did not work"}),
    )
    result, store, out = _run(llm)
    tools = llm.tool_messages()
    assert json.loads(tools[0])["status"] == "applied"
    assert json.loads(tools[1])["passed"] is False
    assert tools[2].startswith("ERROR: refused") and "call validate first" in tools[2]
    assert out.outcome == "escalated" and not out.validated and out.rolled_back
    rollbacks = store.query("SELECT device, status FROM changes WHERE tool = 'rollback_config'")
    assert rollbacks and all(r["status"] == "applied" for r in rollbacks)
    device = _ctx(llm.requests[0]["messages"])["device"]
    assert "mtu 9000" not in result.ctl.view().execute(device, "show running-config").text
    assert present(result)  # not fixed, and not claimed to be


def test_malformed_and_invalid_tool_calls_get_an_error_line_and_never_reach_a_device(
    llm: ScriptedServer,
) -> None:
    llm.play(
        call("ping", "{not json"),
        lambda m: call("ping", {"device": _ctx(m)["device"], "destination": "10.0.0.1; reload"}),
        call("no_such_tool", {}),
        lambda m: call("show_interfaces", {"device": _ctx(m)["device"], "interface": "Gi0/0 | include x"}),
        call("update_ticket", {"state": "escalated", "reason": "giving up"}),
    )
    _, store, out = _run(llm)
    errors = llm.tool_messages()[:4]
    assert all(e.startswith("ERROR: ") for e in errors)
    assert "not a JSON object" in errors[0]
    assert "invalid arguments for ping" in errors[1] and "destination" in errors[1]
    assert "unknown tool 'no_such_tool'" in errors[2]
    assert "not an interface name" in errors[3]
    assert store.scalar("SELECT count(*) FROM tool_calls WHERE command LIKE '%reload%'") == 0
    assert out.outcome == "escalated"


def test_closing_without_validation_is_refused(llm: ScriptedServer) -> None:
    llm.play(
        call("update_ticket", {"state": "closed", "reason": "looks fine to me"}),
        call("update_ticket", {"state": "resolved", "reason": "fixed, trust me"}),
        call("update_ticket", {"state": "escalated", "reason": "refused twice"}),
    )
    _, store, out = _run(llm)
    refused = llm.tool_messages()[:2]
    assert all(r.startswith("ERROR: refused") for r in refused)
    assert out.outcome == "escalated"
    states = [
        e["to_state"] for e in store.query("SELECT to_state FROM ticket_events WHERE kind = 'transition'")
    ]
    assert "resolved" not in states and "closed" not in states


def test_step_budget_overrun_is_escalated(llm: ScriptedServer) -> None:
    llm.play(lambda m: call("show_ip_interface_brief", {"device": _ctx(m)["device"]}), repeat_last=True)
    _, _, out = _run(llm, max_steps=4)
    assert len(llm.requests) == 4
    assert out.outcome == "escalated" and "step budget (4)" in out.reason
    assert out.tool_calls == 4


def test_llm_eval_json_carries_the_built_in_metrics(llm: ScriptedServer) -> None:
    from netops_agent.evaluation.harness import EvalOptions, evaluate
    from netops_agent.evaluation.metrics import METRIC_KEYS
    from netops_agent.evaluation.scenario import Case, Fault, Suite, Topology

    suite = Suite(name="t", topology=Topology(profile="small", seed=42),
                  cases=[Case(id="c1", seed=1, faults=[Fault(**FAULT)])])  # fmt: skip
    llm.play(call("update_ticket", {"state": "escalated", "reason": "not sure"}))
    args = {"llm_base_url": llm.base_url, "llm_model": "scripted"}
    run = evaluate(suite, EvalOptions(agent="llm", agent_args=args))
    data = run.as_dict()
    assert set(data["metrics"]) == set(METRIC_KEYS)
    assert data["agent"] == "llm" and data["agent_args"]["llm_model"] == "scripted"
    assert data["per_case"][0]["outcome"] == "escalated"
