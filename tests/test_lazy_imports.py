"""Commands import only what they use: `--help` and `show-db` load no scikit-learn, no
numpy/pyarrow/scipy, no twin, no parsers (checked in a fresh interpreter's sys.modules,
never by timing)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.probe import run_probe

HEAVY = (
    "sklearn",
    "scipy",
    "numpy",
    "pyarrow",
    "networkx",
    "ntc_templates",
    "textfsm",
    "hier_config",
    "yaml",
    "netops_agent.lab.sim",
    "netops_agent.knowledge",
    "netops_agent.agent",
    "netops_agent.runner",
    "netops_agent.intake",
)

PROBE = """
import contextlib, io, json, sys
sys.argv = ["netops-agent", *json.loads(sys.argv[1])]
from netops_agent.cli import app
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    try:
        app.main()
        code = 0
    except SystemExit as exc:
        code = exc.code or 0
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def _modules(args: list[str], cwd: Path, **extra_env: str) -> tuple[int, list[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NETOPS_")} | extra_env
    data = run_probe(PROBE, args, cwd=cwd, env=env)
    return data["code"], data["modules"]


def _heavy(modules: list[str]) -> list[str]:
    return [m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY)]


@pytest.fixture(scope="module")
def db_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with a database (made with the Store, as a run would leave it)."""
    from netops_agent.store import Store

    cwd = tmp_path_factory.mktemp("lazy")
    with Store(cwd / "outputs" / "netops.duckdb") as store:
        store.set_meta("made_by", "test")
    return cwd


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["run", "--help"],
        ["eval", "--help"],
        ["lab", "--help"],
        ["show-db"],
        ["show-db", "--json"],
    ],
)
def test_light_commands_import_nothing_heavy(args: list[str], db_dir: Path) -> None:
    code, modules = _modules(args, db_dir)
    assert code == 0
    assert "netops_agent.cli.app" in modules  # the probe really ran the CLI
    assert _heavy(modules) == []


@pytest.mark.parametrize("args", [["--help"], ["--version"]])
def test_help_loads_no_models(args: list[str], db_dir: Path) -> None:
    """pydantic (and our models) cost ~60 ms of a ~0.3 s `--help`: the top-level help needs
    neither (a command's own help does: typer's parameter adapters import pydantic)."""
    code, modules = _modules(args, db_dir)
    assert code == 0
    assert [m for m in modules if m == "pydantic" or m.startswith(("pydantic.", "netops_agent.models"))] == []


# What the top-level help leaves to the commands that use it: the database engine, sockets
# (serve), getpass (approve/deny), the package-metadata reader (--version, pydantic).
HELP_NEVER = ("duckdb", "_duckdb", "netops_agent.store", "socket", "getpass", "importlib.metadata", "email")
# Typer's help renderer (rich.markdown with markdown-it and pygments, rich.traceback with attrs:
# ~50 ms) and the stemmer (all of snowball's languages): `show-db` and `run` never render help.
NO_HELP_RENDERER = ("rich.markdown", "rich.traceback", "rich.syntax", "markdown_it", "pygments", "attr")


def _named(modules: list[str], names: tuple[str, ...]) -> list[str]:
    return [m for m in modules if any(m == n or m.startswith(n + ".") for n in names)]


def test_help_leaves_the_commands_own_imports_to_them(db_dir: Path) -> None:
    code, modules = _modules(["--help"], db_dir)
    assert code == 0
    assert "typer.rich_utils" in modules  # help was rendered: the check below can fail
    assert _named(modules, HELP_NEVER) == []


@pytest.mark.parametrize("args", [["show-db"], ["show-db", "--json"]])
def test_show_db_loads_no_help_renderer_and_no_stemmer(args: list[str], db_dir: Path) -> None:
    code, modules = _modules(args, db_dir)
    assert code == 0
    assert "duckdb" in modules  # it read the database: the check below can fail
    assert _named(modules, (*NO_HELP_RENDERER, "snowballstemmer")) == []


def test_the_probe_sees_heavy_imports_when_a_command_needs_them(db_dir: Path) -> None:
    """The check above can fail: `retrieve` needs the runbook index, and the probe sees it."""
    code, modules = _modules(["retrieve", "BGP peer down", "--json"], db_dir)
    assert code == 0
    assert "netops_agent.knowledge" in _heavy(modules)


@pytest.mark.parametrize(("args", "own"), [(["serve", "--help"], "serve"), (["run", "--help"], None)])
def test_a_command_loads_no_other_commands_module(args: list[str], own: str | None, db_dir: Path) -> None:
    """A start that names one command builds that command only (the CLI's short path)."""
    code, modules = _modules(args, db_dir)
    assert code == 0
    commands = {"solve", "serve", "eval", "mcp", "doctor", "lab", "intake", "safety", "notify"}
    others = {f"netops_agent.cli.{c}" for c in commands - {own}}
    assert [m for m in modules if m in others] == []
    if own:
        assert f"netops_agent.cli.{own}" in modules


# What a run never needs: the fit (a warm index cache), pandas and pyarrow's pandas/feather
# layers, networkx (the twin's own path searches), the service, the external-agent and SSH stacks,
# the baseline and plugin agents (the registry imports them when one is asked for), and with
# --json Rich itself (nothing is drawn: the consoles are made on first use).
RUN_NEVER = (
    "rich",
    "netops_agent.agents",
    "netops_agent.evaluation.baselines",
    "sklearn",
    "scipy",
    "pandas",
    "pyarrow.feather",
    "pyarrow.pandas_compat",
    "pyarrow.compute",
    "networkx",
    "fastapi",
    "uvicorn",
    "starlette",
    "jinja2",
    "mcp",
    "openai",
    "asyncssh",
    "scrapli",
    "netmiko",
    "nornir",
    *NO_HELP_RENDERER,
)


def test_a_run_imports_only_what_it_uses_and_fits_only_changed_runbooks(tmp_path: Path) -> None:
    # The shipped runbooks' index ships fitted: even the first run on a new machine (no
    # cache at all) needs no scikit-learn. Runbooks of one's own are fitted once, then
    # read from the cache.
    from netops_agent.knowledge.schema import default_path

    mine = tmp_path / "runbooks.yaml"
    mine.write_text(default_path().read_text().replace("title:", "title: Ours,", 1))
    for name in ("first", "fit", "again"):
        (tmp_path / name).mkdir()
    args = ["run", "--scenario", "smoke", "--json"]
    code, modules = _modules(args, tmp_path / "first", NETOPS_CACHE="off")
    assert code == 0
    assert "netops_agent.lab.sim.lab" in modules and "netops_agent.agent" in modules  # it really ran
    assert [m for m in modules if any(m == n or m.startswith(n + ".") for n in RUN_NEVER)] == []
    cache = str(tmp_path / "cache")
    code, modules = _modules([*args, "--runbooks", str(mine)], tmp_path / "fit", NETOPS_CACHE=cache)
    assert code == 0 and "sklearn" in modules  # fits and keeps the index; the check above can fail
    code, modules = _modules([*args, "--runbooks", str(mine)], tmp_path / "again", NETOPS_CACHE=cache)
    assert code == 0 and not [m for m in modules if m == "sklearn" or m.startswith("sklearn.")]
