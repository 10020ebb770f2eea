"""Shared test helpers: run one scenario case in-process on an in-memory store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import duckdb

from netops_agent.evaluation.scenario import Case, Fault, Suite, Topology
from netops_agent.lab.sim.control import SimControl
from netops_agent.pipeline import CaseResult, RunOptions, Services, TruthStore, run_case
from netops_agent.pipeline.backends import SimBackend
from netops_agent.store import Store


def one_case(*faults: dict[str, Any], **kw: Any) -> tuple[CaseResult, Store]:
    """One case through the case pipeline on the twin, with the telemetry intake.

    The result carries the ground truth read after the agent (`result.truth`:
    `present_after` per fault, healthy entities before and after).
    """
    result, store, _ = one_case_with_lab(*faults, **kw)
    return result, store


def one_case_with_lab(
    *faults: dict[str, Any],
    seed: int = 1,
    profile: str = "small",
    runbooks: Path | None = None,
    intake: str = "telemetry",
    store: Store | None = None,
    criticality: dict[str, str] | None = None,
    **opts: Any,
) -> tuple[CaseResult, Store, SimControl]:
    """`one_case`, also returning the twin's control face (for tests that go on working it)."""
    case = Case(id="c1", seed=seed, faults=[Fault(**f) for f in faults], criticality=criticality or {})
    suite = Suite(name="test", topology=Topology(profile=profile, seed=42), cases=[case])
    store = store or Store(":memory:")
    store.reset_run()
    options = RunOptions(runbooks=runbooks, intake=intake, **opts)
    backend = SimBackend()
    with closing(TruthStore()) as truth:
        svc = Services.open(store, runbooks)
        result = run_case(svc, suite, case, options, backend=backend, truth=truth, collect_truth=True)
    assert backend.last is not None
    return result, store, backend.last


def present(result: CaseResult, n: int = 0) -> bool:
    """Is fault `n` of the case still in the network after the agent (ground truth)?"""
    assert result.truth is not None
    return result.truth.present_after[n]


def same_target(diagnosed: dict[str, Any] | None, injected: dict[str, Any]) -> bool:
    """Either end of a link counts; a session matches on device + peer."""
    if not diagnosed:
        return False
    ends = {(injected.get("device"), injected.get("interface"))}
    if injected.get("peer_device"):
        ends.add((injected["peer_device"], injected.get("peer_interface")))
    if "peer" in injected and "peer" in diagnosed and injected.get("interface") is None:
        return (diagnosed["device"], diagnosed["peer"]) == (injected["device"], injected["peer"])
    if injected.get("interface") is None:
        return diagnosed.get("device") == injected["device"]
    return (diagnosed.get("device"), diagnosed.get("interface")) in ends


def run_coroutine(coro: Any) -> Any:
    """`asyncio.run` in a thread of its own: a test worker may already run an event loop in
    its main thread (Playwright's sync API does, for the browser tests sharing the worker)."""
    import asyncio
    import threading

    out: dict[str, Any] = {}

    def main() -> None:
        try:
            out["value"] = asyncio.run(coro)
        except BaseException as exc:  # re-raised in the caller
            out["error"] = exc

    t = threading.Thread(target=main, name="test-asyncio")
    t.start()
    t.join()
    if "error" in out:
        raise out["error"]
    return out.get("value")


def query_db(db: Path, sql: str) -> list[tuple]:
    """Rows of `sql` from a database file, opened read-only (as another process would)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@contextmanager
def statements(store: Store) -> Iterator[list[str]]:
    """Every statement `store` runs inside the block, whitespace folded."""
    seen: list[str] = []
    fetch = store._fetch

    def counting(sql: str, params: object = None) -> tuple[list[str], list[tuple]]:
        seen.append(" ".join(sql.split()))
        return fetch(sql, params)  # type: ignore[arg-type]

    store._fetch = counting  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        del store._fetch
