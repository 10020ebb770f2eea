"""The audit trail's rows: written together they store what one-by-one inserts stored, and
a flush infers no Arrow types (pyarrow's inference tries to import python-dateutil for every
column it infers)."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from typing import Any

import pytest

from netops_agent.audit import StoreRecorder
from netops_agent.store import Store

CASES: list[list[Any]] = [
    ["a", None, "b"],
    [1.5, None, 2.0],
    [1, 2, None],
    [True, False, None],
    [datetime(2026, 11, 30, 6, 0, 1, 250000), None],
    [datetime(2026, 11, 30, tzinfo=timezone.utc)],
    [1, 2.5],
    [None, None],
    [{"a": 1}, ["x", 2], None],
]
COLUMNS = {  # a column of each type the audit tables use
    "a": "VARCHAR", "b": "DOUBLE", "c": "BIGINT", "d": "BOOLEAN", "e": "TIMESTAMP",
    "f": "TIMESTAMP", "g": "DOUBLE", "h": "VARCHAR", "i": "JSON",
}  # fmt: skip


@pytest.mark.parametrize("n", range(len(CASES)))
def test_rows_written_together_equal_rows_inserted_one_by_one(n: int) -> None:
    """`append_rows` (one multi-row INSERT, what the recorder and ticket events use now)
    stores exactly what `insert` (one row a statement, as before) stored."""
    col, kind, values = list(COLUMNS)[n], list(COLUMNS.values())[n], CASES[n]
    store = Store(":memory:")
    store.execute(f"CREATE TABLE one (k INTEGER, {col} {kind})")
    store.execute(f"CREATE TABLE many (k INTEGER, {col} {kind})")
    for k, v in enumerate(values):
        store.insert("one", {"k": k, col: v})
    with store.transaction():
        store.append_rows("many", [{"k": k, col: v} for k, v in enumerate(values)])
    one = store.query(f"SELECT k, {col} FROM one ORDER BY k")
    assert one == store.query(f"SELECT k, {col} FROM many ORDER BY k")
    assert len(one) == len(values)


class _Watch:
    """A meta-path finder that notes every attempt to import python-dateutil."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def find_spec(self, name: str, path: object, target: object = None) -> None:
        if name.split(".")[0] == "dateutil":
            self.asked.append(name)
        return None


def test_a_flush_of_tool_calls_and_decisions_infers_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(":memory:")
    rec = StoreRecorder(store)
    now = datetime(2026, 11, 30, 6, 0, 0)
    for i in range(3):
        rec.tool_call(
            {"ts": now, "incident_id": "INC-1", "device": "leaf1", "tool": "show_version",
             "command": "show version", "params": {"i": i}, "risk": "read", "status": "ok",
             "raw_output": "IOS", "parsed": [{"v": "15"}], "error": "", "duration_ms": 1.25}
        )  # fmt: skip
        rec.decision(
            {"ts": now, "incident_id": "INC-1", "device": "leaf1", "tool": "shutdown_interface",
             "risk": "high", "decision": "deny", "reason": "policy"}
        )  # fmt: skip
    watch = _Watch()
    monkeypatch.setattr(sys, "meta_path", [watch, *sys.meta_path])
    monkeypatch.delitem(sys.modules, "dateutil", raising=False)
    monkeypatch.delitem(sys.modules, "dateutil.relativedelta", raising=False)
    rec.flush()
    assert watch.asked == []
    assert store.scalar("SELECT count(*) FROM tool_calls") == 3
    row = store.query_one("SELECT ts, params, parsed, duration_ms FROM tool_calls ORDER BY id LIMIT 1")
    assert row is not None
    assert row["ts"] == now and row["duration_ms"] == 1.25
    assert store.scalar("SELECT count(*) FROM policy_decisions WHERE decision = 'deny'") == 3
