"""Issue 13: multi-row inserts bind one list per column (`unnest`) when every column holds one
plain kind of value, and a VALUES statement otherwise; both store exactly what one row a
statement stored. `Store.columns` on a private store reads every table's columns once and
reads them again after a statement that may change the schema."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from netops_agent.store import Store, db
from tests.helpers import statements

T0 = datetime(2026, 11, 30, 9, 0, 0, 123456)
TABLE = (
    "CREATE TABLE {} (k INTEGER, s VARCHAR, f DOUBLE, i BIGINT, b BOOLEAN, ts TIMESTAMP, "
    "j JSON, n VARCHAR, m DOUBLE, id BIGINT DEFAULT nextval('{}_seq'))"
)


def _store() -> Store:
    store = Store(":memory:")
    for name in ("one", "many"):
        store.execute(f"CREATE SEQUENCE {name}_seq")
        store.execute(TABLE.format(name, name))
    return store


def _rows(seed: int, n: int) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    rows = []
    for k in range(n):
        rows.append(
            {
                "k": k,
                "s": rnd.choice(["a", "", "ünï", "x" * 300, None]),
                "f": rnd.choice([0.1 + k, 1e-300, -2.5, float("inf"), None]),
                "i": rnd.choice([0, -(2**62), 2**62, None]),
                "b": rnd.choice([True, False, None]),
                "ts": rnd.choice([T0 + timedelta(microseconds=k * 7), None]),
                "j": rnd.choice([{"a": [1, k]}, ["x", None], '{"raw": true}', None]),
                "n": None,
                "m": rnd.choice([1, 2.5, None]),  # ints and floats: DOUBLE either way
            }
        )
    return rows


def _same(store: Store) -> list[dict[str, Any]]:
    one = store.query("SELECT * FROM one ORDER BY k")
    assert one == store.query("SELECT * FROM many ORDER BY k")
    return one


def _one_column_both_ways(column: str, values: list[Any]) -> list[str]:
    """`values` stored in a `column` of table `one` a row a statement and of `many` by one
    `insert_rows`; checks both tables hold the same rows, all of them; the statements
    `insert_rows` sent."""
    store = Store(":memory:")
    for name in ("one", "many"):
        store.execute(f"CREATE TABLE {name} (k INTEGER, v {column})")
    rows = [{"k": k, "v": v} for k, v in enumerate(values)]
    for r in rows:
        store.insert("one", r)
    with statements(store) as seen:
        store.insert_rows("many", rows)
    assert len(_same(store)) == len(values)
    return seen


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("arrow", [True, False], ids=["arrow", "lists"])
def test_rows_bound_as_lists_store_what_one_row_a_statement_stored(
    seed: int, arrow: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bound as lists, or (pyarrow loaded) as an Arrow table of those lists: the same values."""
    import pyarrow  # noqa: F401  (loaded: the Arrow way is taken unless switched off)

    if not arrow:
        monkeypatch.setattr(db, "_as_arrow", lambda cols, columns: None)
    store = _store()
    rows = _rows(seed, 40)
    for r in rows:
        store.insert("one", r)
    with statements(store) as seen:
        store.insert_rows("many", rows)
    assert len(seen) == 1 and "VALUES" not in seen[0]
    assert (Store.SCAN in seen[0]) is arrow and ("unnest($1)" in seen[0]) is not arrow
    assert len(_same(store)) == 40


@pytest.mark.parametrize(
    ("column", "values"),
    [
        ("DOUBLE", [2**60 + 1, 0.5]),  # an int a double cannot hold, with floats
        ("DOUBLE", [-(2**53) - 1, 2.5]),
    ],
)
def test_ints_too_large_for_a_double_beside_floats_go_as_lists(column: str, values: list[Any]) -> None:
    import pyarrow  # noqa: F401

    seen = _one_column_both_ways(column, values)
    assert len(seen) == 1 and "unnest($1)" in seen[0]


def test_short_commands_do_not_load_pyarrow_to_insert_rows(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from netops_agent.store import Store\n"
        "s = Store(':memory:')\n"
        "s.insert_rows('meta', [{'key': 'a', 'value': '1'}, {'key': 'b', 'value': '2'}])\n"
        "print(s.query('SELECT count(*) AS n FROM meta')[0]['n'], 'pyarrow' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert out.stdout.split() == ["2", "False"]


@pytest.mark.parametrize(
    ("column", "values"),
    [
        ("TIMESTAMP", [datetime(2026, 11, 30, tzinfo=timezone.utc), T0]),  # a zone: TIMESTAMPTZ
        ("DATE", [date(2026, 11, 30), date(2026, 12, 1)]),  # another kind
        ("VARCHAR", ["text", 7]),  # str and int in one column
        ("DOUBLE", [2**70, 1]),  # beyond 64 bits
    ],
)
def test_a_column_a_list_would_bind_differently_goes_as_values(column: str, values: list[Any]) -> None:
    seen = _one_column_both_ways(column, values)
    assert len(seen) == 1 and "VALUES" in seen[0] and "unnest" not in seen[0]


def test_runs_with_other_columns_keep_their_order_and_ids() -> None:
    store = _store()
    rows = _rows(7, 30)
    mixed = [r if k % 10 < 6 else {"k": r["k"], "s": r["s"]} for k, r in enumerate(rows)]
    for r in mixed:
        store.insert("one", r)
    store.insert_rows("many", mixed)
    stored = _same(store)
    assert [r["id"] for r in stored] == list(range(1, 31))  # sequence ids in the rows' order


def test_columns_are_read_once_on_a_private_store_and_again_after_a_schema_change() -> None:
    store = Store(":memory:")
    reference = {
        t: [r["column_name"] for r in store.query(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() "
            "AND schema_name = 'main' AND table_name = ? ORDER BY column_index", [t])]
        for t in ("tool_calls", "incidents", "meta")
    }  # fmt: skip
    with statements(store) as seen:
        for t, cols in reference.items():
            assert store.columns(t) == cols and cols
        assert store.columns("no_such_table") == []
        store.insert("meta", {"key": "k", "value": "v"})  # rows change, columns do not
        assert store.columns("meta") == reference["meta"]
    assert sum("duckdb_columns" in s for s in seen) == 1
    store.execute("ALTER TABLE meta ADD COLUMN extra INTEGER")
    assert store.columns("meta") == [*reference["meta"], "extra"]
    store.execute("CREATE TABLE fresh (a INTEGER, b VARCHAR)")
    assert store.columns("fresh") == ["a", "b"]
    store.execute("DROP TABLE fresh")
    assert store.columns("fresh") == []
    store.connection.execute("CREATE TABLE raw (z INTEGER)")  # behind the store's back
    assert store.columns("raw") == ["z"]


def test_a_file_store_reads_the_columns_each_time(tmp_path: Path) -> None:
    with Store(tmp_path / "f.duckdb") as store:
        with statements(store) as seen:
            store.columns("meta")
            store.columns("meta")
        assert sum("duckdb_columns" in s for s in seen) == 2
