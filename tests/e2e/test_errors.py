"""Bad input: a clear message naming the file/field/device, a non-zero exit, no traceback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.e2e.conftest import Cli


@pytest.mark.parametrize(
    ("suite", "expect"),
    [
        ("name: x\ncases:\n  - id: a\n    faults: [{type: gremlins}]\n", "case a, field faults.0.type"),
        ("name: x\ncases:\n  - id: a\n    colour: red\n", "unknown key 'colour'"),
        ("name: x\ncases:\n  - id: a\n  - id: a\n", "duplicate case id 'a'"),
        (
            "name: x\ncases:\n  - id: a\n    faults: [{type: link_failure, target: {device: nope}}]\n",
            "unknown device 'nope'",
        ),
        ("name: x\ntopology: {profile: huge}\ncases: [{id: a}]\n", "unknown profile 'huge'"),
        ("name: [unclosed\n", "not valid YAML"),
    ],
)
def test_bad_scenario(cli: Cli, tmp_path: Path, suite: str, expect: str) -> None:
    path = tmp_path / "suite.yaml"
    path.write_text(suite)
    proc = cli("run", "--scenario", str(path), check=False)
    assert proc.returncode != 0
    assert "suite.yaml" in proc.stderr and expect in proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_db_for_show_db(cli: Cli) -> None:
    proc = cli("show-db", "--db", "nowhere/x.duckdb", check=False)
    assert proc.returncode != 0 and "netops-agent run" in proc.stderr and "Traceback" not in proc.stderr


def test_unknown_table(cli: Cli) -> None:
    cli("lab", "up")
    proc = cli("show-db", "--table", "nope", check=False)
    assert proc.returncode != 0 and "tables are:" in proc.stderr


def test_bad_runbooks_file(cli: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "rb.yaml"
    bad.write_text(
        "runbooks:\n  - id: RB-X\n    title: t\n    fault_types: [nope]\n    symptoms: something long\n"
    )
    proc = cli("run", "--runbooks", str(bad), check=False)
    assert proc.returncode != 0 and "RB-X" in proc.stderr and "fault_types" in proc.stderr


def test_lab_exec_unknown_device(cli: Cli) -> None:
    cli("lab", "up")
    proc = cli("lab", "exec", "nope", "show version", check=False)
    assert proc.returncode != 0 and "unknown device 'nope'" in proc.stderr


def test_usage_errors_are_clean(cli: Cli) -> None:
    proc = cli("run", "--no-such-option", check=False)
    assert proc.returncode == 2 and "No such option" in proc.stderr and "Traceback" not in proc.stderr
    proc = cli("run", "--top-k", "99", check=False)
    assert proc.returncode == 2 and "--top-k" in proc.stderr and "Traceback" not in proc.stderr


# --- issue 12: everything validated before the database is touched ---------------------------------
@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    """`run --scenario smoke` once: a database with tickets to keep safe from bad input."""
    c = Cli(tmp_path_factory.mktemp("smoke"))
    c("run", "--scenario", "smoke", "--json")
    return c


def _counts(c: Cli) -> dict[str, int]:
    return c.json("show-db")


def _one_error(proc: Any) -> str:
    """The error is one line (plus an optional `fix:` line), never a traceback."""
    assert proc.returncode != 0, proc.stdout
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert (lines and lines[0].startswith("error:")) or lines[-1].startswith("Error:"), proc.stderr
    assert len([ln for ln in lines if not ln.lstrip().startswith("fix:")]) <= 4, proc.stderr
    return proc.stderr


@pytest.mark.parametrize(
    ("make", "expect"),
    [
        (lambda d: ["--runbooks", _write(d / "rb.yaml", "runbooks: []\n")], "has no runbooks"),
        (lambda d: ["--runbooks", str(_mkdir(d / "rbdir"))], "is a directory"),
        (lambda d: ["--scenario", _write(d / "s.yaml", b"\x7fELF\x00\x01binary")], "binary file"),
        (lambda d: ["--scenario", str(_mkdir(d / "sdir"))], "is a directory"),
        (lambda d: ["--policy", str(_mkdir(d / "pdir"))], "is a directory"),
        (lambda d: ["--policy", _write(d / "p.yaml", b"\x00\x00\x00")], "binary file"),
        (lambda d: ["--seed", "-5"], "--seed"),
        (lambda d: ["--seed", "99999999999999999999"], "--seed"),
        (lambda d: ["--log", str(_mkdir(d / "logdir"))], "is a directory"),
        (lambda d: ["--intake", "bogus"], "unknown intake"),
    ],
)
def test_bad_input_keeps_the_previous_run(smoke_run: Cli, tmp_path: Path, make: Any, expect: str) -> None:
    before = _counts(smoke_run)
    assert before["tickets"] > 0 and before["telemetry"] > 0
    err = _one_error(smoke_run("run", "--scenario", "smoke", *make(tmp_path), check=False))
    assert expect in err
    assert _counts(smoke_run) == before


def _write(path: Path, data: str | bytes) -> str:
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return str(path)


def _mkdir(path: Path) -> Path:
    path.mkdir()
    return path


def test_unwritable_netops_log_is_one_line(cli: Cli, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")  # a log "inside" a regular file cannot be created, even by root
    err = _one_error(cli("run", env={"NETOPS_LOG": str(blocker / "netops.log")}, check=False))
    assert "NETOPS_LOG" in err and "cannot write" in err
    assert not (cli.cwd / "outputs" / "netops.duckdb").exists()


def test_implausible_database_paths(cli: Cli) -> None:
    err = _one_error(cli("show-db", env={"NETOPS_DB": "x" * 5000}, check=False))
    assert "NETOPS_DB is not a plausible database path" in err
    err = _one_error(cli("lab", "up", env={"NETOPS_DB": "outputs/netops.dukdb"}, check=False))
    assert "does not end in .duckdb" in err
    assert not (cli.cwd / "outputs" / "netops.dukdb").exists()
    err = _one_error(cli("run", "--db", "bad\nname.duckdb", check=False))
    assert "control characters" in err
    (cli.cwd / "somedir").mkdir()
    assert "is a directory" in _one_error(cli("incidents", "--db", "somedir", check=False))


def test_foreign_database_is_refused_unless_forced(cli: Cli) -> None:
    path = cli.cwd / "other.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE meta (k INTEGER, v INTEGER); CREATE TABLE sales (x INTEGER)")
    con.close()
    err = _one_error(cli("lab", "up", "--db", str(path), check=False))
    assert "other tables (meta, sales)" in err and "--force" in err
    err = _one_error(cli("incidents", "--db", str(path), check=False))
    assert "not made by netops-agent" in err
    # --force with a clashing `meta` table: a clear line, not raw SQL
    err = _one_error(cli("run", "--scenario", "smoke", "--db", str(path), "--force", check=False))
    assert "cannot add netops-agent's tables" in err and "--db PATH to a new file" in err
    con = duckdb.connect(str(path), read_only=True)
    assert {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()} == {
        "meta",
        "sales",
    }
    con.close()


@pytest.mark.parametrize(
    ("report", "expect"), [("rdir", "is a directory"), ("r.pdf", "unsupported format '.pdf'")]
)
def test_eval_report_path_checked_before_any_case(cli: Cli, report: str, expect: str) -> None:
    (cli.cwd / "rdir").mkdir()
    err = _one_error(cli("eval", "--suite", "smoke", "--report", report, check=False))
    assert expect in err
    assert not (cli.cwd / "outputs" / "netops.duckdb").exists()  # nothing ran, nothing stored
    assert not (cli.cwd / "r.pdf").exists()


def test_eval_bad_database_found_before_the_first_case(cli: Cli) -> None:
    path = cli.cwd / "other.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE sales (x INTEGER)")
    con.close()
    err = _one_error(cli("eval", "--suite", "smoke", "--db", str(path), check=False))
    assert "--force" in err
    log = cli.cwd / "outputs" / "netops.log"
    assert not log.exists() or "IM-" not in log.read_text()  # no case ran


def test_lab_inject_route_missing_on_a_leaf_exits_cleanly(cli: Cli) -> None:
    cli("lab", "up", "--profile", "small")
    proc = cli("lab", "inject", "route_missing", "--device", "site1-leaf1", check=False)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "site1-leaf1 has no static route left to remove" in proc.stderr


def test_a_model_validation_error_is_one_line_and_exit_2(monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    """The CLI's last net for pydantic errors (checked without importing pydantic up front)."""
    import pydantic

    from netops_agent.cli import app as cli_app

    class Probe(pydantic.BaseModel):
        seed: int

    def boom(*_a: object, **_k: object) -> int:
        Probe.model_validate({"seed": "many"})
        return 0

    monkeypatch.setattr(cli_app, "app", boom)
    monkeypatch.setattr(cli_app, "_register_subcommands", lambda: None)
    monkeypatch.setattr(cli_app, "_one_command", lambda args: None)
    monkeypatch.setattr(cli_app, "_quiet_flag_types", lambda: None)
    with pytest.raises(SystemExit) as exc:
        cli_app.main()
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "invalid value: seed:" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "args",
    [
        ["eval", "--suite", "smoke", "--seed", "-5"],
        ["eval", "--suite", "smoke", "--seed", "99999999999999999999"],
        ["lab", "up", "--seed", "-5"],
    ],
)
def test_out_of_range_seeds_are_one_line(cli: Cli, args: list[str]) -> None:
    err = _one_error(cli(*args, check=False))
    assert "--seed" in err
    assert not (cli.cwd / "outputs" / "netops.duckdb").exists()  # refused before the database
