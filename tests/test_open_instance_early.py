"""`run` opens the process's DuckDB instance on a second thread as the CLI starts (its
connect overlaps the command's imports); stores use that instance. Other commands, and
`run --help`, open nothing early."""

from __future__ import annotations

import pytest

from tests.probe import run_probe

PROBE = """
import json, sys, threading
sys.argv = ["netops-agent", *json.loads(sys.argv[1])]
from netops_agent.cli.common import batch_gc_early
batch_gc_early(sys.argv[1:2])
opener = [t for t in threading.enumerate() if t.name == "netops-duckdb-open"]
for t in opener:
    t.join()
out = {"thread": bool(opener), "duckdb": "duckdb" in sys.modules}
if opener:
    from netops_agent.store import instance as inst
    early = inst._INSTANCE[0]
    from netops_agent.store import Store
    store = Store(":memory:")
    store.execute("CREATE TABLE t (a INTEGER)")
    store.insert_rows("t", [{"a": 1}, {"a": 2}])
    out["same"] = inst.instance() is early and store._hold.hub is early
    out["rows"] = store.scalar("SELECT sum(a) FROM t")
    out["opened"] = early.opened
print(json.dumps(out))
"""


def _probe(args: list[str]) -> dict:
    return run_probe(PROBE, args)


def test_run_opens_the_instance_early_and_stores_use_it() -> None:
    got = _probe(["run", "--json"])
    assert got == {"thread": True, "duckdb": True, "same": True, "rows": 3, "opened": 1}


@pytest.mark.parametrize("args", [["run", "--help"], ["eval", "--json"], ["show-db"], []])
def test_other_commands_open_nothing_early(args: list[str]) -> None:
    assert _probe(args) == {"thread": False, "duckdb": False}
