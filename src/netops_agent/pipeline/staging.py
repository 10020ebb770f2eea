"""`run` works in memory and swaps its records in with one short transaction.

A run replaces the previous run's records. If it wrote them into the database file as
it went, the file would be locked for the whole run (DuckDB lets one process write a
file and no one read it meanwhile), or readers would see half a run. So `run_staged`:

1. brings the runbook index up to date in the file (a cache, not a run record), then
   copies it, the `meta` keys and the sequences' positions into an in-memory database;
2. lets go of the file and runs the suite against the in-memory copy, every incident
   still its own unit of record there (`pipeline.case`);
3. opens the file again and, in one transaction, deletes the previous run's records and
   appends the new ones through Arrow, moving the sequences on past the new ids;
4. writes the run's ground truth to the TruthStore next to the file.

A failed, interrupted or killed run therefore leaves the file exactly as the previous run
left it, and readers (`show-db`, `incidents`, the dashboard) read it throughout, except
for the moment of step 3. If the process dies between steps 3 and 4, the ground truth
file keeps the previous run's faults (only the harness and `lab` commands read it).
"""

from __future__ import annotations

from contextlib import closing

from netops_agent.killpoints import killpoint
from netops_agent.pipeline.backends import FrrRunConfig
from netops_agent.pipeline.case import RunOptions, RunReport, run_suite
from netops_agent.services import refresh_index
from netops_agent.store import Store
from netops_agent.store.migrations import RUN_TABLES
from netops_agent.store.truth import TruthStore, truth_path

INDEX_TABLES = ("runbooks", "runbook_vocab", "runbook_vectors")
_KEEP_META = ("work_state",)  # the file's own marks (recovery) never come from the copy


def run_staged(
    store: Store, suite: object, options: RunOptions | None = None, *, frr: FrrRunConfig | None = None
) -> RunReport:
    """`run_suite` in memory; its records replace the previous run's in `store` at the end."""
    options = options or RunOptions()
    refresh_index(store, options.runbooks)
    with closing(Store(":memory:", compress=True)) as stage, closing(TruthStore()) as truth:
        with stage.transaction():  # a new database: its tables are empty
            for table in INDEX_TABLES:
                stage.append_arrow(table, store.arrow(f'SELECT * FROM "{table}"'))
            for row in store.query("SELECT key, value FROM meta"):
                if row["key"] not in _KEEP_META:
                    stage.set_meta(row["key"], row["value"])
        move_sequences(stage, sequence_positions(store))
        store.release()
        report = run_suite(stage, suite, options, truth=truth, frr=frr)  # type: ignore[arg-type]
        publish(stage, store)
        killpoint("committed")
        store.release()
        with TruthStore(truth_path(store.path)) as kept:
            kept.replace_with(truth)
    return report


def publish(stage: Store, store: Store) -> None:
    """The staged run's records replace the previous run's in `store`, in one transaction.

    The file is attached to the in-memory stage and each table is copied inside DuckDB:
    no row passes through Python or Arrow, and a large case's telemetry is never held a
    second time in full. A store that cannot be attached (in memory, or a connection its
    caller owns) takes the rows as streamed Arrow batches instead."""
    meta = [r for r in stage.query("SELECT key, value FROM meta") if r["key"] not in _KEEP_META]
    positions = sequence_positions(stage)
    if not store.persistent or store.leased:
        with store.transaction():
            store.clear(RUN_TABLES)  # a DELETE only where the previous run left rows
            killpoint("commit")
            for table in RUN_TABLES:
                store.append_batches(table, stage.batches(f'SELECT * FROM "{table}"'))
            for row in meta:
                store.set_meta(row["key"], row["value"])
            move_sequences(store, positions)
        return
    here = stage.database()
    with stage.attached(store, "published") as there, stage.transaction():
        stage.clear(RUN_TABLES, database=there)  # a DELETE only where the previous run left rows
        killpoint("commit")
        for table in RUN_TABLES:
            cols = ", ".join(f'"{c}"' for c in stage.columns(table))
            stage.execute(f'INSERT INTO {there}."{table}" ({cols}) SELECT {cols} FROM {here}."{table}"')
        for row in meta:
            stage.execute(f"INSERT OR REPLACE INTO {there}.meta VALUES (?, ?)", [row["key"], row["value"]])
        move_sequences(stage, positions, database=there)


def sequence_positions(store: Store, database: str | None = None) -> dict[str, int]:
    """Each sequence's last value handed out (0 when none was), of `store`'s own database
    or of the one attached to it as `database`."""
    store.flush()  # rows still held back take their ids (sequence defaults) first
    database = database or store.database()
    return {
        r["sequence_name"]: int(r["last_value"] or 0)
        for r in store.query(
            "SELECT sequence_name, last_value FROM duckdb_sequences() WHERE database_name = ?", [database]
        )
    }


def move_sequences(store: Store, positions: dict[str, int], database: str | None = None) -> None:
    """Move the sequences (of `store`, or of the database attached to it as `database`)
    on to at least `positions`: ids stay unique and increasing (the notification outbox
    follows ticket events by id)."""
    here = sequence_positions(store, database)
    prefix = f"{database}." if database else ""
    for name, target in positions.items():
        if name in here and target > here[name]:
            store.scalar(f"SELECT max(nextval('{prefix}{name}')) FROM range(?)", [target - here[name]])
