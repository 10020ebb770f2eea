"""`netops-agent doctor`: passes on a finished run, names each contradiction planted in a copy."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from tests.e2e.conftest import Cli


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    c = Cli(tmp_path_factory.mktemp("doctor"))
    c("run", "--json")  # the demo: one twin, every kind of outcome
    return c


def test_doctor_passes_after_a_run(ran: Cli) -> None:
    data = ran.json("doctor")
    assert data["ok"] is True and data["problems"] == [] and len(data["checks"]) >= 6
    out = ran("doctor").stdout
    assert "passes" in out


PLANTS = {
    # the saved lab lost the last applied config change of a resolved ticket
    "resolved-change-in-lab": "UPDATE device_config d SET running = c.before_config FROM changes c "
    "WHERE c.id = (SELECT max(c2.id) FROM changes c2 JOIN tickets t ON t.incident_id = c2.incident_id "
    "WHERE t.state = 'resolved' AND c2.status = 'applied' AND c2.before_config <> c2.after_config "
    "AND c2.id = (SELECT max(id) FROM changes c3 WHERE c3.device = c2.device AND c3.status = 'applied')) "
    "AND d.device = c.device",
    "ticket-stuck": "UPDATE tickets SET state = 'in_progress' WHERE id = (SELECT min(id) FROM tickets)",
    "orphan-alert": "UPDATE alerts SET incident_id = 'IM-9999' WHERE id = (SELECT min(id) FROM alerts)",
    "incident-open-ticket-closed": "UPDATE incidents SET status = 'open' WHERE id = "
    "(SELECT min(incident_id) FROM tickets WHERE state IN ('resolved', 'escalated'))",
    "ticket-without-incident": "DELETE FROM incidents WHERE id = (SELECT min(incident_id) FROM tickets)",
    # the demo has one change waiting for approval: marked executed, its ticket still waits
    "approval-executed": "UPDATE approvals SET state = 'executed' WHERE id = (SELECT min(a.id) "
    "FROM approvals a JOIN tickets t ON t.id = a.ticket_id WHERE t.state = 'awaiting_approval')",
}


@pytest.mark.parametrize("check", list(PLANTS))
def test_doctor_names_a_planted_contradiction(ran: Cli, tmp_path: Path, check: str) -> None:
    db = tmp_path / "copy.duckdb"
    shutil.copy(ran.cwd / "outputs" / "netops.duckdb", db)
    con = duckdb.connect(str(db))
    con.execute(PLANTS[check])
    con.close()
    proc = ran("doctor", "--db", str(db), "--json", check=False)
    assert proc.returncode == 1, proc.stdout
    import json

    data = json.loads(proc.stdout)
    assert data["ok"] is False and check in {p["check"] for p in data["problems"]}
    text = ran("doctor", "--db", str(db), check=False)
    assert text.returncode == 1 and "problem" in text.stdout and "fix:" in text.stdout
