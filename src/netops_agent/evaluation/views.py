"""Read views over stored evaluation runs (`eval_runs`, `eval_cases`) for the API and dashboard."""

from __future__ import annotations

from typing import Any

from netops_agent.errors import NotFoundError
from netops_agent.store import Store
from netops_agent.store.query import decode_json, page

CASE_COLUMNS = (
    "case_id, position, expected_outcome, outcome, injected, diagnosis, ground_truth_fixed, "
    "false_resolution, tool_calls, ticket_id"
)


def list_runs(store: Store, *, suite: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Stored runs, newest first, with their metrics decoded."""
    rows = page(store, "SELECT * FROM eval_runs", {"suite": suite}, "started_at DESC, id", limit=limit)
    for r in rows:
        r["metrics"] = decode_json(r["metrics"]) or {}
    return rows


def latest_per_agent(store: Store) -> list[dict[str, Any]]:
    """The newest run of each (suite, agent): what the overview shows as "last eval scores"."""
    rows = list_runs(store, limit=1000)
    seen: set[tuple[str, str]] = set()
    out = []
    for r in rows:
        key = (r["suite"], r["agent"])
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


def run_detail(store: Store, run_id: str) -> dict[str, Any]:
    """One run with its cases in suite order."""
    run = store.query_one("SELECT * FROM eval_runs WHERE id = ?", [run_id])
    if run is None:
        known = [r["id"] for r in store.query("SELECT id FROM eval_runs ORDER BY started_at DESC LIMIT 10")]
        raise NotFoundError(
            f"no evaluation run {run_id!r}; recent runs: "
            f"{', '.join(known) or 'none (run `netops-agent eval --suite smoke`)'}"
        )
    run["metrics"] = decode_json(run["metrics"]) or {}
    cases = store.query(f"SELECT {CASE_COLUMNS} FROM eval_cases WHERE run_id = ? ORDER BY position", [run_id])
    for c in cases:
        c["injected"] = decode_json(c["injected"])
        c["diagnosis"] = decode_json(c["diagnosis"])
    return {"run": run, "cases": cases}


def case_detail(store: Store, run_id: str, case_id: str) -> dict[str, Any]:
    """One case of one run with the harness's full record (trace, incidents, scores)."""
    row = store.query_one(
        f"SELECT {CASE_COLUMNS}, detail FROM eval_cases WHERE run_id = ? AND case_id = ?", [run_id, case_id]
    )
    if row is None:
        run_detail(store, run_id)  # names the run if that is what is missing
        raise NotFoundError(f"no case {case_id!r} in evaluation run {run_id}; see /api/v1/evals/{run_id}")
    for k in ("injected", "diagnosis", "detail"):
        row[k] = decode_json(row[k])
    return row
