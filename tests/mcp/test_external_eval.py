"""`eval --agent external`: the example MCP agent against the in-process seed-baseline.

The example replays the seed-baseline strategy through MCP only. Ungated (as the
in-process baseline is), its scores equal the baseline's case by case, which shows
the interface hides nothing and adds nothing; gated (the default), the same agent
cannot claim a false resolution nor push a high-risk change without a human.
"""

from __future__ import annotations

import sys
from pathlib import Path

from netops_agent.evaluation.harness import EvalOptions, evaluate
from netops_agent.evaluation.metrics import METRIC_KEYS
from netops_agent.evaluation.scenario import load_suite

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "agents" / "seed_baseline_mcp.py"
# a high-risk fix the baseline pushes, a fix that needs a captured value, a false resolution
CASES = ("bgp-max-prefix-1", "acl-blocking-1", "bgp-asn-mismatch-1")


def _suite(ids: tuple[str, ...]):
    suite = load_suite("catalog")
    return suite.model_copy(update={"cases": [c for c in suite.cases if c.id in ids]})


def _external(suite, **extra):
    args = {"agent_cmd": f"{sys.executable} {EXAMPLE}", "timeout_s": 120, **extra}
    return evaluate(suite, EvalOptions(agent="external", agent_args=args))


def test_ungated_example_agent_scores_exactly_like_the_in_process_seed_baseline() -> None:
    suite = _suite(CASES)
    ext = _external(suite, ungated=True)
    seed = evaluate(suite, EvalOptions(agent="seed-baseline"))
    assert set(ext.metrics) == set(METRIC_KEYS)
    assert {k: v for k, v in ext.metrics.items() if k != "wall_s"} == {
        k: v for k, v in seed.metrics.items() if k != "wall_s"
    }
    assert seed.metrics["false_resolutions"] == 2  # the subset bites: max-prefix and AS mismatch
    for a, b in zip(ext.as_dict()["per_case"], seed.as_dict()["per_case"], strict=True):
        for key in ("outcome", "diagnosis", "ground_truth_fixed", "false_resolution", "tool_calls"):
            assert a[key] == b[key], (a["id"], key)
    assert ext.as_dict()["agent_args"]["ungated"] is True


def test_gated_example_agent_cannot_claim_an_unvalidated_fix_nor_push_a_high_risk_one() -> None:
    run = _external(_suite(("bgp-asn-mismatch-1", "bgp-max-prefix-1")))
    assert run.metrics["false_resolutions"] == 0 and run.metrics["unsafe_actions"] == 0
    by_id = {c["id"]: c["detail"]["incidents"][0] for c in run.as_dict()["per_case"]}
    asn = by_id["bgp-asn-mismatch-1"]  # one of the baseline's false resolutions above
    assert asn["ticket_state"] == "escalated" and "validation failed" in asn["reason"]
    prefix = by_id["bgp-max-prefix-1"]  # never resolved by a high-risk change without a human
    assert prefix["ticket_state"] in ("awaiting_approval", "escalated")
    if prefix["ticket_state"] == "awaiting_approval":  # with the agent's diagnosis on the ticket
        assert prefix["diagnosis"]["type"] == "bgp_max_prefix" and prefix["runbook"]


def test_external_agent_without_a_command_is_a_one_line_error(tmp_path: Path) -> None:
    import subprocess

    r = subprocess.run(
        [sys.executable, "-m", "netops_agent.cli.app", "eval", "--suite", "smoke", "--agent", "external",
         "--db", str(tmp_path / "x.duckdb"), "--log", str(tmp_path / "log")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert r.returncode != 0 and '--agent-cmd "COMMAND"' in r.stderr and "Traceback" not in r.stderr


def test_llm_agent_without_an_endpoint_says_how_to_set_one(tmp_path: Path) -> None:
    import os
    import subprocess

    env = {k: v for k, v in os.environ.items() if not k.startswith("NETOPS_LLM_")} | {"COLUMNS": "300"}
    r = subprocess.run(
        [sys.executable, "-m", "netops_agent.cli.app", "eval", "--suite", "smoke", "--agent", "llm",
         "--db", str(tmp_path / "x.duckdb"), "--log", str(tmp_path / "log")],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert "--llm-base-url" in r.stderr and "NETOPS_LLM_BASE_URL" in r.stderr
    assert len(lines) == 1


def test_an_external_agent_that_hangs_is_stopped_and_its_ticket_escalated() -> None:
    hang = f'{sys.executable} -c "import time; time.sleep(60)"'
    suite = _suite(("interface-admin-down-1",))
    run = evaluate(suite, EvalOptions(agent="external", agent_args={"agent_cmd": hang, "timeout_s": 1}))
    inc = run.as_dict()["per_case"][0]["detail"]["incidents"][0]
    assert inc["ticket_state"] == "escalated" and "stopped without closing the ticket" in inc["reason"]
    trace = run.records[0].incidents[0].trace["timeline"]
    assert any("timed out after 1 s" in e["note"] for e in trace)
