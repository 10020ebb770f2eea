"""A staged run's records replace the previous run's in the target store (pipeline.staging.publish)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from netops_agent.pipeline.staging import publish, sequence_positions
from netops_agent.store import Store

AT = datetime(2026, 11, 30, 8, 0)


def _event(store: Store, note: str) -> None:
    store.execute(
        "INSERT INTO ticket_events (ticket_id, ts, kind, note) VALUES (?, ?, 'opened', ?)",
        ["INC0000001", AT, note],
    )


@pytest.mark.parametrize("target", ["file", "memory"])
def test_publish_replaces_the_previous_run_and_moves_the_sequences_on(target: str, tmp_path: Path) -> None:
    # A file is attached to the stage and copied into inside DuckDB; a store in memory
    # takes the rows as Arrow batches. Both end the same.
    store = Store(tmp_path / "p.duckdb") if target == "file" else Store(":memory:")
    for note in ("old 1", "old 2", "old 3"):
        _event(store, note)
    store.set_meta("kept", "old")
    stage = Store(":memory:", compress=True)
    for k in range(5):  # the stage's sequence ends ahead of the target's (3)
        _event(stage, f"new {k}")
    stage.set_meta("kept", "new")
    stage.set_meta("work_state", "staged")  # the target's own recovery mark never comes over
    store.set_meta("work_state", "idle")
    store.release()
    publish(stage, store)
    assert [r["note"] for r in store.query("SELECT note FROM ticket_events ORDER BY id")] == [
        f"new {k}" for k in range(5)
    ]
    assert store.get_meta("kept") == "new" and store.get_meta("work_state") == "idle"
    assert sequence_positions(store)["ticket_event_seq"] == 5  # moved on past the copied ids
    _event(store, "next")  # would collide with a copied id if the sequence had stayed at 3
    assert store.scalar("SELECT id FROM ticket_events WHERE note = 'next'") == 6
    store.close()


def test_an_unkeyed_stage_meets_the_files_keys_when_it_is_published(tmp_path: Path) -> None:
    # The stage holds no keys (`Store.like(keyed=False)`): a duplicate there is only caught
    # by the file's own key, inside publish's one transaction, which leaves the file as it was.
    store = Store(tmp_path / "k.duckdb")
    _event(store, "old")
    stage = Store.like(store, keyed=False)
    for note in ("new 1", "new 2"):
        stage.execute(
            "INSERT INTO ticket_events (id, ticket_id, kind, note) VALUES (7, 'INC1', 'opened', ?)", [note]
        )
    store.release()
    with pytest.raises(Exception, match="(?i)duplicate key|constraint"):
        publish(stage, store)
    assert [r["note"] for r in store.query("SELECT note FROM ticket_events")] == ["old"]
    stage.close()
    store.close()
