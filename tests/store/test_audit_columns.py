"""The audit trail's Arrow columns are what pyarrow infers, built without its inference where
the type is plain (inference tries to import python-dateutil for every column it infers)."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from typing import Any

import pyarrow as pa
import pytest

from netops_agent.audit import StoreRecorder, _column
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
    [],
    [{"a": 1}],
]


@pytest.mark.parametrize("values", CASES)
def test_columns_equal_pyarrows_inference(values: list[Any]) -> None:
    got, want = _column(values), pa.array(values)
    assert got.type == want.type
    assert got.equals(want)


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
