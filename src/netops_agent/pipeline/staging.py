"""`run` works in memory and swaps its records in with one short transaction.

A run replaces the previous run's records. If it wrote them into the database file as
it went, the file would be locked for the whole run (DuckDB lets one process write a
file and no one read it meanwhile), or readers would see half a run. So `run_staged`:

1. copies the runbook index (a cache, not a run record), the `meta` keys and the
   sequences' positions into an in-memory database; when the file's index is not up
   to date (a new file, changed runbooks or synonyms), the index is built there
   instead and published with the run in step 3;
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

from netops_agent.evaluation.scenario import Suite
from netops_agent.killpoints import killpoint
from netops_agent.pipeline.backends import FrrRunConfig
from netops_agent.pipeline.case import RunOptions, RunReport, run_suite
from netops_agent.services import refresh_index, runbooks_digest
from netops_agent.store import Store
from netops_agent.store.migrations import RUN_TABLES
from netops_agent.store.truth import TruthStore, truth_path

INDEX_TABLES = ("runbooks", "runbook_vocab", "runbook_vectors")
# The stage holds one case's telemetry at a time (each case starts a fresh lab), so its
# size grows with the largest case's lab. DuckDB can keep an in-memory database
# compressed: less memory, more CPU at every commit. Worth it from a few hundred routers
# (the 500-router case peaks ~35 MiB lower with it), not for the demo's 48, where it was
# ~6% of the run's instructions and saved ~6 MiB.
COMPRESS_STAGE_FROM_DEVICES = 200
# An uncompressed stage has no keys (`Store.like(keyed=False)`): DuckDB holds each key in
# an ART index of ~1.3 MiB however few rows it has, ~12 MiB of the demo's peak; the rows
# meet the file's keys in `publish`. A compressed stage keeps them: unkeyed (DuckDB
# 2.0.1), its telemetry stayed uncompressed as it was appended (1,192 plain row groups
# instead of 209 compressed for the 500-router case, +35 MiB at the peak), for a reason
# we have not found.
_KEEP_META = ("work_state",)  # the file's own marks (recovery) never come from the copy


def run_staged(
    store: Store, suite: Suite, options: RunOptions | None = None, *, frr: FrrRunConfig | None = None
) -> RunReport:
    """`run_suite` in memory; its records replace the previous run's in `store` at the end."""
    from netops_agent.knowledge.index import HASH_KEY

    options = options or RunOptions()
    digest = runbooks_digest(options.runbooks)  # bad runbooks stop the run here, as before
    meta = {r["key"]: r["value"] for r in store.query("SELECT key, value FROM meta")}
    # The file's schema, copied (no migrations run); its tables empty.
    compress = stage_compressed(suite)
    stage = Store.like(store, compress=compress, keyed=compress)
    with closing(stage), closing(TruthStore()) as truth:
        copy = INDEX_TABLES if meta.get(HASH_KEY) == digest else ()  # the file's index is current
        if store.persistent and not store.leased:
            with stage.attached(store, "published") as there, stage.transaction():
                for table in copy:  # inside DuckDB: the same rows, in their order
                    cols = ", ".join(f'"{c}"' for c in stage.columns(table))
                    stage.execute(f'INSERT INTO "{table}" ({cols}) SELECT {cols} FROM "{there}"."{table}"')
                for key, value in meta.items():
                    if key not in _KEEP_META:
                        stage.set_meta(key, value)
        else:
            with stage.transaction():
                for table in copy:
                    stage.append_arrow(table, store.arrow(f'SELECT * FROM "{table}"'))
                for key, value in meta.items():
                    if key not in _KEEP_META:
                        stage.set_meta(key, value)
        new_index = refresh_index(stage, options.runbooks)  # else built here, published below
        move_sequences(stage, sequence_positions(store))
        store.release()
        report = run_suite(stage, suite, options, truth=truth, frr=frr)
        publish(stage, store, index=new_index)
        killpoint("committed")
        # The file stays attached for the command's last mark (`cli.common.writing`): one
        # checkpoint when it is let go, not two.
        with TruthStore(truth_path(store.path)) as kept:
            kept.replace_with(truth)
    return report


def stage_compressed(suite: Suite) -> bool:
    """Is the stage for `suite` kept compressed? When one of its cases builds a twin of at
    least `COMPRESS_STAGE_FROM_DEVICES` routers (an FRR suite's labs are a handful)."""
    from netops_agent.lab.sim.topology import PROFILES

    sizes = (PROFILES[suite.topology_for(case).profile].devices for case in suite.cases)
    return max(sizes, default=0) >= COMPRESS_STAGE_FROM_DEVICES


def publish(stage: Store, store: Store, *, index: bool = False) -> None:
    """The staged run's records replace the previous run's in `store`, in one transaction;
    with `index`, so does the runbook index built in the stage (with its `meta` hash).

    The file is attached to the in-memory stage and each table is copied inside DuckDB:
    no row passes through Python or Arrow, and a large case's telemetry is never held a
    second time in full. A store that cannot be attached (in memory, or a connection its
    caller owns) takes the rows as streamed Arrow batches instead."""
    meta = [r for r in stage.query("SELECT key, value FROM meta") if r["key"] not in _KEEP_META]
    positions = sequence_positions(stage)
    tables = [*RUN_TABLES, *(INDEX_TABLES if index else ())]
    if not store.persistent or store.leased:
        with store.transaction():
            store.clear(tables)  # a DELETE only where the previous run left rows
            killpoint("commit")
            for table in tables:
                store.append_batches(table, stage.batches(f'SELECT * FROM "{table}"'))
            for row in meta:
                store.set_meta(row["key"], row["value"])
            move_sequences(store, positions)
        return
    here = stage.database()
    with stage.attached(store, "published") as there, stage.transaction():
        stage.clear(tables, database=there)  # a DELETE only where the previous run left rows
        killpoint("commit")
        for table in tables:
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
