"""The harness runs cases without the re-detection pass: nothing it scores changes."""

from __future__ import annotations

import functools
from typing import Any

import pytest

from netops_agent.evaluation import harness
from netops_agent.evaluation.scenario import load_suite
from netops_agent.pipeline import RunOptions, Services, TruthStore, run_case
from netops_agent.pipeline.backends import SimBackend
from netops_agent.store import Store

SMOKE = load_suite("smoke")


@functools.cache  # each case runs once per setting for both tests
def run(case_index: int, recheck: bool) -> tuple[dict[str, Any], Any, list[dict[str, Any]]]:
    """The harness's record of one case, the twin's clock after it, and the alerts' states."""
    case = SMOKE.cases[case_index]
    backend = SimBackend()
    opts = RunOptions(policy=harness.default_policy(), bookkeeping=False, recheck_alerts=recheck)
    with Store(":memory:") as store, TruthStore() as truth:
        svc = Services.open(store, None)
        result = run_case(svc, SMOKE, case, opts, backend=backend, truth=truth, collect_truth=True)
        record = harness._record(case, result, svc).to_dict()
        alerts = store.query("SELECT id, state, incident_id FROM alerts ORDER BY id")
    assert backend.last is not None
    return record, backend.last.now(), alerts


@pytest.mark.parametrize("case_index", range(len(SMOKE.cases)))
def test_scores_and_clock_are_the_same_without_the_recheck(case_index: int) -> None:
    with_pass, clock_with, alerts_with = run(case_index, recheck=True)
    without, clock_without, alerts_without = run(case_index, recheck=False)
    assert without == with_pass
    assert clock_without == clock_with  # ground truth was read at the same twin time
    # the same alerts are linked to the same incidents; only their states may differ
    assert [(a["id"], a["incident_id"]) for a in alerts_without] == [
        (a["id"], a["incident_id"]) for a in alerts_with
    ]


def test_the_recheck_is_what_clears_alerts() -> None:
    """What the harness skips is real work: with the pass, a fixed fault's alert clears."""
    cleared = []
    for i in range(len(SMOKE.cases)):
        _, _, with_pass = run(i, recheck=True)
        _, _, without = run(i, recheck=False)
        cleared += [a for a, b in zip(with_pass, without, strict=True) if a["state"] != b["state"]]
    assert cleared and all(a["state"] == "cleared" for a in cleared)
