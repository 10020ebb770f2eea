"""`netops-agent doctor`: is what the database says consistent with itself?

Each check is one SQL query over the agent's records; a row it returns is a problem
(exit code 1) or a warning (reported, exit code 0). The checks target what a crash or
Ctrl-C could leave behind:

- a resolved ticket whose config change is missing from the saved lab: the device's
  saved running config is still the one before the change (the ticket was committed,
  the lab was not);
- a ticket left `new`/`in_progress` without an `interrupted` mark;
- an approval marked `executed` whose ticket never moved on;
- alerts pointing at incidents that do not exist; tickets without their incident;
- an incident still `open` although its ticket is closed;
- an evaluation run that stopped before its last case (a warning: `eval --resume`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from netops_agent.store import Store


@dataclass
class Finding:
    check: str
    subject: str
    problem: str
    fix: str
    severity: str = "problem"  # or "warning"


@dataclass(frozen=True)
class Check:
    name: str
    sql: str
    problem: str  # str.format(**row)
    fix: str
    severity: str = "problem"
    needs: tuple[str, ...] = ()  # tables the check reads


CHECKS: tuple[Check, ...] = (
    Check(
        "resolved-change-in-lab",
        "SELECT t.id AS ticket, c.id AS change, c.device, c.tool "
        "FROM tickets t JOIN changes c ON c.incident_id = t.incident_id "
        "JOIN device_config d ON d.device = c.device "
        "WHERE t.state = 'resolved' AND c.status = 'applied' AND c.before_config <> c.after_config "
        "AND d.running = c.before_config "
        "AND c.id = (SELECT max(id) FROM changes c2 WHERE c2.device = c.device AND c2.status = 'applied')",
        "ticket {ticket} is resolved but its change #{change} ({tool} on {device}) is not in the saved lab",
        "run `netops-agent solve` to re-check the lab, or `netops-agent run` to start afresh",
        needs=("tickets", "changes", "device_config"),
    ),
    Check(
        "ticket-stuck",
        "SELECT t.id AS ticket, t.incident_id AS incident, t.state FROM tickets t "
        "WHERE t.state IN ('new', 'in_progress') AND NOT EXISTS (SELECT 1 FROM ticket_events e "
        "WHERE e.ticket_id = t.id AND e.kind = 'interrupted')",
        "ticket {ticket} ({incident}) is stuck in {state} with no `interrupted` mark",
        "a run was killed while working it; start afresh with `netops-agent run`",
        needs=("tickets", "ticket_events"),
    ),
    Check(
        "approval-executed",
        "SELECT a.id AS approval, a.ticket_id AS ticket, t.state FROM approvals a "
        "JOIN tickets t ON t.id = a.ticket_id WHERE a.state = 'executed' "
        "AND t.state IN ('awaiting_approval', 'new')",
        "approval {approval} is executed but ticket {ticket} still says {state}",
        "run `netops-agent resume` or check the device by hand",
        needs=("approvals", "tickets"),
    ),
    Check(
        "orphan-alert",
        "SELECT a.id AS alert, a.incident_id AS incident FROM alerts a "
        "WHERE a.incident_id IS NOT NULL AND a.incident_id NOT IN (SELECT id FROM incidents)",
        "alert {alert} points at incident {incident}, which does not exist",
        "start afresh with `netops-agent run` (or `lab up`)",
        needs=("alerts", "incidents"),
    ),
    Check(
        "ticket-without-incident",
        "SELECT t.id AS ticket, t.incident_id AS incident FROM tickets t "
        "WHERE t.incident_id NOT IN (SELECT id FROM incidents)",
        "ticket {ticket} belongs to incident {incident}, which does not exist",
        "start afresh with `netops-agent run`",
        needs=("tickets", "incidents"),
    ),
    Check(
        "incident-open-ticket-closed",
        "SELECT i.id AS incident, t.id AS ticket, t.state FROM incidents i JOIN tickets t "
        "ON t.incident_id = i.id WHERE i.status = 'open' AND t.state IN ('resolved', 'escalated', 'closed')",
        "incident {incident} is open but its ticket {ticket} is {state}",
        "start afresh with `netops-agent run`",
        needs=("incidents", "tickets"),
    ),
    Check(
        "eval-unfinished",
        "SELECT r.id AS run, r.suite, r.cases, (SELECT count(*) FROM eval_cases c WHERE c.run_id = r.id) "
        "AS done FROM eval_runs r WHERE r.status = 'running'",
        "evaluation run {run} ({suite}) stopped after {done} of {cases} cases",
        "finish it with `netops-agent eval --resume {run}`",
        severity="warning",
        needs=("eval_runs", "eval_cases"),
    ),
)


def examine(store: Store) -> list[Finding]:
    """Run every check; findings in check order."""
    tables = set(store.tables())
    out: list[Finding] = []
    for check in CHECKS:
        if not set(check.needs) <= tables:
            continue
        if check.name == "eval-unfinished" and "status" not in _columns(store, "eval_runs"):
            continue
        for row in store.query(check.sql):
            subject = str(next(iter(row.values())))
            out.append(
                Finding(
                    check.name, subject, check.problem.format(**row), check.fix.format(**row), check.severity
                )
            )
    return out


def _columns(store: Store, table: str) -> set[str]:
    return set(store.columns(table))


def report(store: Store) -> dict[str, Any]:
    findings = examine(store)
    problems = [asdict(f) for f in findings if f.severity == "problem"]
    warnings = [asdict(f) for f in findings if f.severity != "problem"]
    return {
        "database": store.path,
        "checks": [c.name for c in CHECKS],
        "ok": not problems,
        "problems": problems,
        "warnings": warnings,
    }
