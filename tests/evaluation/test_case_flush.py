"""A case on an in-memory store (a staged run, an eval case: its twin saved once, its log
rows held past commits) and on a file store end with the same telemetry and syslog rows."""

from __future__ import annotations

from pathlib import Path

from netops_agent.store import Store
from tests.helpers import one_case_with_lab

FAULTS = ({"type": "interface_admin_down"}, {"type": "high_cpu_process"})
OBSERVED = (
    "SELECT s.ts, s.series, s.value FROM telemetry_samples s ORDER BY ALL",
    "SELECT * FROM events ORDER BY ALL",
)


def _observed(store: Store) -> list[list[tuple]]:
    return [[tuple(r.values()) for r in store.query(q)] for q in OBSERVED]


def test_memory_and_file_stores_hold_the_same_observations(tmp_path: Path) -> None:
    # no recheck and no bookkeeping: only the per-incident flushes append the agent-time rows
    opts = {"recheck_alerts": False, "bookkeeping": False}
    result_mem, mem, _ = one_case_with_lab(*FAULTS, **opts)
    assert mem.persistent is False and len(result_mem.outcomes) >= 2
    with Store(tmp_path / "n.duckdb") as file_store:
        result_file, _, _ = one_case_with_lab(*FAULTS, store=file_store, **opts)
        assert file_store.persistent
        on_file = _observed(file_store)
    in_memory = _observed(mem)
    assert [o.outcome for o in result_mem.outcomes] == [o.outcome for o in result_file.outcomes]
    assert in_memory == on_file
