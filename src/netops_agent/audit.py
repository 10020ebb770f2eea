"""The audit trail: tool calls and changes written to DuckDB as they happen (append-only)."""

from __future__ import annotations

from typing import Any

from netops_agent.store import Store
from netops_agent.tools.executor import Recorder


class StoreRecorder(Recorder):
    def __init__(self, store: Store) -> None:
        self.store = store

    def tool_call(self, row: dict[str, Any]) -> None:
        self.store.insert("tool_calls", row)

    def change(self, row: dict[str, Any]) -> None:
        self.store.insert("changes", row)
