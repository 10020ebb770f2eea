"""Issue 13: an in-memory TruthStore keeps its rows in Python (no DuckDB connection of its
own) and answers exactly as the DuckDB file one does, both ways through `replace_with`."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import duckdb

from netops_agent.models import InjectedFault
from netops_agent.store.truth import TruthStore

AT = datetime(2026, 11, 30, 8, 0, 0, 250000, tzinfo=timezone.utc)


def _faults(n: int) -> list[InjectedFault]:
    return [
        InjectedFault(
            id=f"F{n}{k}", type="link_down", target={"device": f"d{k}", "n": [k, None]}, params={"k": k}
        )
        for k in range(n)
    ]


def _story(truth: TruthStore) -> list[object]:
    """What a run and the harness do with one, and what they read back."""
    seen: list[object] = []
    truth.record("case-b", _faults(3), AT)
    truth.record("case-a", _faults(2))
    truth.record("lab", _faults(1), AT.replace(tzinfo=None))
    seen += [truth.scopes(), truth.faults("case-b"), truth.faults("case-a"), truth.faults("nope")]
    truth.record("case-b", _faults(1), AT)  # replaces that scope's faults
    truth.clear("case-a")
    seen += [truth.scopes(), truth.faults("case-b"), truth.faults("case-a")]
    return seen


def test_memory_answers_as_a_file_does(tmp_path: Path) -> None:
    mem = TruthStore()
    assert mem._con is None  # no database of its own
    with TruthStore(tmp_path / "t.duckdb") as file:
        assert _story(mem) == _story(file)
        # memory -> file stores the rows the file itself stored
        direct = file._con.execute("SELECT * FROM ground_truth ORDER BY scope, seq").fetchall()  # type: ignore[union-attr]
        copy_path = tmp_path / "copy.duckdb"
        with TruthStore(copy_path) as copy:
            copy.record("stale", _faults(4))
            copy.replace_with(mem)
        con = duckdb.connect(str(copy_path), read_only=True)
        assert con.execute("SELECT * FROM ground_truth ORDER BY scope, seq").fetchall() == direct
        con.close()
        back = TruthStore()  # file -> memory
        back.replace_with(file)
        assert back.scopes() == file.scopes() and back.faults("case-b") == file.faults("case-b")
    mem.clear()
    assert mem.scopes() == [] and mem.faults("lab") == []
