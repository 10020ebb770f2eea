"""The service's hold on the DuckDB file (`serve.db.StoreAccess`, lease mode)."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from netops_agent.errors import StoreError
from netops_agent.serve.db import StoreAccess
from netops_agent.store import Store


def test_reader_reopens_the_file_it_checked_and_checks_a_replaced_one(
    db_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checks: list[str] = []
    real = Store._check_ours

    def spy(self: Store, read_only: bool, force: bool) -> None:
        checks.append(self.path)
        real(self, read_only, force)

    monkeypatch.setattr(Store, "_check_ours", spy)
    access = StoreAccess(db_copy, hold_s=0)  # lets go of the file after every request
    with access.read() as store:
        first = store.scalar("SELECT count(*) FROM incidents")
    assert first and len(checks) == 1
    with access.write() as store:  # what another writer does between two requests
        store.execute("DELETE FROM incidents WHERE id = 'IM-0001'")
    checks.clear()
    with access.read() as store:  # reopened without the schema checks, and sees the write
        assert store.scalar("SELECT count(*) FROM incidents") == first - 1
    assert checks == []

    foreign = tmp_path / "foreign.duckdb"
    with duckdb.connect(str(foreign)) as con:
        con.execute("CREATE TABLE things (x INTEGER)")
    os.replace(foreign, db_copy)  # another file under the same name: checked again
    with pytest.raises(StoreError, match="not made by netops-agent"), access.read():
        pass
    assert checks == [str(db_copy)]
    access.close()
