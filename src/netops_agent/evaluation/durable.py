"""Durable, resumable evaluation runs: every case is stored the moment it finishes.

`begin` records the run (status `running`) before the first case; `save_case` appends
one case in its own short transaction (`eval` holds the file only across saves that
come close together, so readers and other writers are locked out only for a moment;
see `cli/eval.py`); `finish` stores the metrics and marks the run `complete`. A run
that stops early (Ctrl-C, a crash, `kill -9`) keeps every case it finished; `pending`
and `resume_plan` let `eval --resume RUN_ID` run only the cases that are missing and
score the union. Runs stored by `harness.save_run` (status NULL) count as complete.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from netops_agent.errors import ConfigError, NotFoundError
from netops_agent.evaluation.metrics import CaseRecord
from netops_agent.killpoints import killpoint
from netops_agent.store import Store
from netops_agent.store.db import utcnow

OpenStore = Callable[[], Store]


def begin(store: Store, run_id: str, suite: Any, options: Any) -> None:
    """Record a run before its first case (status `running`, no metrics yet)."""
    with store.transaction():
        store.insert(
            "eval_runs",
            {
                "id": run_id,
                "started_at": utcnow(),
                "suite": suite.name,
                "suite_version": suite.version,
                "suite_digest": suite.digest,
                "suite_source": suite.source,
                "agent": options.agent,
                "backend": options.backend,
                "intake": options.intake,
                "seed": options.seed,
                "runbooks": str(options.runbooks) if options.runbooks else None,
                "cases": len(suite.cases),
                "status": "running",
                "wall_s": 0.0,
            },
        )


def save_case(store: Store, run_id: str, position: int, record: CaseRecord, wall_s: float) -> None:
    """Append one finished case and the run's elapsed time, together."""
    from netops_agent.evaluation.harness import per_case

    c = per_case(record)
    row = pa.table(
        {
            "run_id": [run_id],
            "position": pa.array([position], pa.int32()),
            "case_id": [c["id"]],
            "expected_outcome": [c["expected_outcome"]],
            "outcome": [c["outcome"]],
            "injected": [json.dumps(c["injected"])],
            "diagnosis": [json.dumps(c["diagnosis"], default=str)],
            "ground_truth_fixed": [c["ground_truth_fixed"]],
            "false_resolution": [c["false_resolution"]],
            "tool_calls": pa.array([c["tool_calls"]], pa.int32()),
            "ticket_id": pa.array([c["ticket_id"]], pa.string()),
            "detail": [json.dumps(record.to_dict(), default=str)],
        }
    )
    with store.transaction():
        store.execute("DELETE FROM eval_cases WHERE run_id = ? AND case_id = ?", [run_id, c["id"]])
        store.append_arrow("eval_cases", row)
        store.execute("UPDATE eval_runs SET wall_s = ? WHERE id = ?", [wall_s, run_id])
        killpoint("saving")


def finish(store: Store, run: Any) -> None:
    """Store the metrics of a run whose every case is saved, and mark it complete."""
    with store.transaction():
        store.execute(
            "UPDATE eval_runs SET metrics = ?, wall_s = ?, status = 'complete', finished_at = ? WHERE id = ?",
            [json.dumps(run.metrics, default=str), run.wall_s, utcnow(), run.run_id],
        )


def stored_cases(store: Store, run_id: str) -> dict[str, CaseRecord]:
    rows = store.query("SELECT case_id, detail FROM eval_cases WHERE run_id = ? ORDER BY position", [run_id])
    return {r["case_id"]: CaseRecord.from_dict(json.loads(r["detail"])) for r in rows}


def unfinished(store: Store) -> list[dict[str, Any]]:
    """Runs that stopped before their last case (newest first)."""
    return store.query(
        "SELECT r.id, r.suite, r.agent, r.cases, count(c.case_id) AS done FROM eval_runs r "
        "LEFT JOIN eval_cases c ON c.run_id = r.id WHERE r.status = 'running' "
        "GROUP BY r.id, r.suite, r.agent, r.cases, r.started_at ORDER BY r.started_at DESC"
    )


@dataclass
class ResumePlan:
    run_id: str
    suite: Any  # the whole suite as stored
    options: dict[str, Any]  # agent, backend, intake, seed, runbooks
    done: dict[str, CaseRecord]  # case id -> stored record
    wall_s: float

    def remaining(self) -> Any:
        """The suite restricted to the cases still to run (same name, version, digest)."""
        left = [c for c in self.suite.cases if c.id not in self.done]
        return self.suite.model_copy(update={"cases": left}) if left else None


def resume_plan(store: Store, run_id: str) -> ResumePlan:
    """What `eval --resume RUN_ID` runs: the stored run's suite and options, minus saved cases."""
    from netops_agent.evaluation.scenario import load_suite

    row = store.query_one("SELECT * FROM eval_runs WHERE id = ?", [run_id])
    if row is None:
        known = ", ".join(r["id"] for r in unfinished(store)) or "none"
        raise NotFoundError(f"no evaluation run {run_id!r} in {store.path}; unfinished runs: {known}")
    if row.get("status") != "running":
        raise ConfigError(f"evaluation run {run_id} is already complete; start a new one without --resume")
    source = row.get("suite_source") or row["suite"]
    suite = load_suite(source)
    if suite.digest != row["suite_digest"]:
        raise ConfigError(
            f"suite {source} changed since run {run_id} started (digest {row['suite_digest']}, "
            f"now {suite.digest}); restore it or start a new run without --resume"
        )
    options = {
        "agent": row["agent"],
        "backend": row["backend"],
        "intake": row["intake"],
        "seed": row["seed"],
        "runbooks": Path(row["runbooks"]) if row.get("runbooks") else None,
    }
    return ResumePlan(run_id, suite, options, stored_cases(store, run_id), float(row["wall_s"] or 0.0))
