"""Store: numbered migrations recorded once, transactions all-or-nothing, bulk Arrow writes."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from netops_agent.errors import StoreError
from netops_agent.store import Store
from netops_agent.store.migrations import MIGRATIONS


def test_migrations_are_recorded_once(tmp_path: Path) -> None:
    path = tmp_path / "x.duckdb"
    with Store(path) as s:
        versions = [r["version"] for r in s.query("SELECT version FROM schema_migrations ORDER BY 1")]
        assert versions == sorted(m[0] for m in MIGRATIONS)
    with Store(path) as s:
        assert s.migrate() == []
        assert s.scalar("SELECT count(*) FROM schema_migrations") == len(MIGRATIONS)


def test_transaction_rolls_back_every_write() -> None:
    s = Store(":memory:")
    with pytest.raises(RuntimeError), s.transaction():
        s.insert("tickets", {"id": "T1", "state": "new"})
        s.insert("ticket_events", {"ticket_id": "T1", "kind": "opened"})
        raise RuntimeError("crash between related writes")
    assert s.scalar("SELECT count(*) FROM tickets") == 0
    assert s.scalar("SELECT count(*) FROM ticket_events") == 0


def test_append_arrow_bulk() -> None:
    s = Store(":memory:")
    n = 50_000
    t = pa.table({"device": ["d"] * n, "entity": ["e"] * n, "metric": ["m"] * n, "value": list(range(n))})
    assert s.append_arrow("telemetry", t) == n
    assert s.scalar("SELECT sum(value) FROM telemetry") == sum(range(n))


def test_missing_database_read_only_says_how_to_create_it(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="netops-agent run"):
        Store(tmp_path / "nope.duckdb", read_only=True)


def test_unknown_table_lists_the_known_ones() -> None:
    with pytest.raises(StoreError, match="tables are: .*tickets"):
        Store(":memory:").require_table("nope")


def test_a_compressed_in_memory_store_holds_appended_samples_in_less_memory() -> None:
    import numpy as np

    def fill(store: Store) -> int:
        # as a run's stage fills: one append per twin tick
        for k in range(20):
            store.append_arrow(
                "telemetry_samples",
                pa.table(
                    {
                        "ts": pa.array(np.full(60_000, k * 10_000_000, "datetime64[us]")),
                        "series": pa.array(np.arange(60_000, dtype=np.int32)),
                        "value": pa.array(np.round(np.random.default_rng(k).random(60_000) * 100)),
                    }
                ),
            )
        return int(
            store.scalar("SELECT memory_usage_bytes FROM duckdb_memory() WHERE tag = 'IN_MEMORY_TABLE'")
        )

    stage, plain = Store(":memory:", compress=True), Store(":memory:")
    assert stage.query("SELECT options FROM duckdb_databases() WHERE database_name = current_database()") == [
        {"options": {"compress": "true"}}
    ]
    assert "tickets" in stage.tables()  # migrated where its statements run
    assert fill(stage) * 2 < fill(plain)
    assert stage.scalar("SELECT count(*) FROM telemetry_samples") == 1_200_000
