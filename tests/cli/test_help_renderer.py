"""Help is rendered by typer's own renderer with rich.markdown / rich.traceback deferred
(cli/help_renderer.py): the same text, byte for byte, as with typer's plain import."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from netops_agent.cli import help_renderer
from tests.probe import run_probe

# Renders help with the CLI's main(); PLAIN=1 makes every typer version "unverified", so
# typer.rich_utils is imported as it is (the reference).
PROBE = """
import contextlib, io, json, os, sys
sys.argv = ["netops-agent", *json.loads(sys.argv[1])]
from netops_agent.cli import app, help_renderer
if os.environ.get("PLAIN") == "1":
    help_renderer.VERIFIED = frozenset()
out, err = io.StringIO(), io.StringIO()
with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
    try:
        app.main()
        code = 0
    except SystemExit as exc:
        code = exc.code or 0
print(json.dumps({"code": code, "out": out.getvalue(), "err": err.getvalue(),
                  "markdown": "rich.markdown" in sys.modules, "traceback": "rich.traceback" in sys.modules}))
"""


def _help(args: list[str], cwd: Path, *, plain: bool, color: bool = False) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NETOPS_", "FORCE_COLOR", "NO_COLOR"))}
    env |= {"COLUMNS": "80", "PLAIN": "1" if plain else "0"}
    if color:
        env["FORCE_COLOR"] = "1"
    return run_probe(PROBE, args, cwd=cwd, env=env)


@pytest.mark.parametrize(
    ("args", "color"),
    [
        (["--help"], False),
        (["--help"], True),
        ([], False),
        (["run", "--help"], False),
        (["run", "--help"], True),
        (["eval", "--help"], False),
        (["lab", "--help"], False),
        (["lab", "exec", "--help"], False),
        (["notifications", "--help"], False),
        (["show-db", "--help"], False),
    ],
)
def test_help_is_the_same_text_with_the_deferred_modules(
    args: list[str], color: bool, tmp_path: Path
) -> None:
    plain = _help(args, tmp_path, plain=True, color=color)
    fast = _help(args, tmp_path, plain=False, color=color)
    assert plain["markdown"] and plain["traceback"]  # the reference imported both: it is typer's own
    assert not fast["markdown"] and not fast["traceback"]  # the stand-ins were used
    assert "Usage" in (fast["out"] + fast["err"])  # help was printed: the comparison means something
    assert (fast["code"], fast["out"], fast["err"]) == (plain["code"], plain["out"], plain["err"])


def test_an_unverified_typer_imports_its_renderer_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(help_renderer, "VERIFIED", frozenset())
    assert help_renderer.load() is False


def test_the_stand_ins_hand_back_the_real_objects() -> None:
    from rich.markdown import Markdown
    from rich.traceback import Traceback

    md = help_renderer.stand_in("rich.markdown", "Markdown")("**bold**", style="dim")
    assert type(md) is Markdown and md.markup == "**bold**"
    try:
        raise ValueError("boom")
    except ValueError as exc:
        tb = help_renderer.stand_in("rich.traceback", "Traceback").from_exception(
            type(exc), exc, exc.__traceback__
        )
    assert type(tb) is Traceback and tb.trace.stacks[0].exc_value == "boom"


PROBE_AFTER = """
import sys
from netops_agent.cli import help_renderer
assert help_renderer.load() is True
assert "rich.markdown" not in sys.modules and "rich.traceback" not in sys.modules
import rich, rich.markdown, rich.traceback
from typer import rich_utils
text = rich_utils._make_rich_text(text="**x**", style="", markup_mode="markdown")
assert type(text) is rich.markdown.Markdown, type(text)  # markdown help still works
assert rich.markdown.Markdown.__module__ == "rich.markdown" and hasattr(rich.markdown, "MarkdownIt")
tb = rich_utils.get_traceback(ValueError("x"), rich_utils.DeveloperExceptionConfig(), [])
assert type(tb) is rich.traceback.Traceback
print("ok")
"""


@pytest.mark.skipif(help_renderer.typer_version() not in help_renderer.VERIFIED, reason="plain import")
def test_after_the_help_the_real_modules_load_and_serve_typer(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE_AFTER], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


@pytest.mark.parametrize(
    ("args", "wanted"),
    [
        ([], True),
        (["--help"], True),
        (["lab", "exec", "--help"], True),
        (["run", "--json"], False),
        (["retrieve", "--", "--help"], False),
    ],
)
def test_help_is_foreseen_from_the_command_line(args: list[str], wanted: bool) -> None:
    assert help_renderer.wanted(args) is wanted
