"""Check every input of a command before it touches the database.

`run`, `eval`, `solve` and `retrieve` call `inputs()` first: scenario, runbook and policy
files must be readable text files that parse and validate, and the runbook file must
hold at least one runbook. Each problem is one line naming the file and how to fix it.
"""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import Annotated, Any

import typer

from netops_agent.errors import ConfigError, InputFileError

SEED_MAX = 2**32 - 1
SeedOption = Annotated[
    int | None,
    typer.Option(min=0, max=SEED_MAX, help=f"Override the topology seed (0..{SEED_MAX})."),
]
REPORT_SUFFIXES = (".html", ".htm", ".md", ".markdown")


def text_file(path: Path, what: str, option: str) -> Path:
    """A readable text file, or one line saying what is wrong with `path`."""
    if path.is_dir():
        raise InputFileError(str(path), f"is a directory, not a {what} file", fix=f"pass {option} FILE.yaml")
    if not path.exists():
        raise InputFileError(str(path), "file not found", fix=f"pass an existing {option} file")
    try:
        with path.open("rb") as fh:
            head = fh.read(65536)
    except OSError as exc:
        raise InputFileError(str(path), f"cannot read it ({exc.strerror})", fix="check permissions") from None
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=len(head) < 65536)
        binary = b"\0" in head
    except UnicodeDecodeError:
        binary = True
    if binary:
        raise InputFileError(
            str(path), f"is a binary file, not {what} YAML text", fix=f"pass a YAML {what} file to {option}"
        )
    return path


def scenario(name_or_path: str) -> Any:
    """Load a suite after checking that a path argument is a text file."""
    from netops_agent.evaluation.scenario import load_suite

    p = Path(name_or_path)
    if p.exists() or p.suffix in (".yaml", ".yml"):
        text_file(p, "scenario", "--scenario")
    return load_suite(name_or_path)


def runbooks(path: Path | None) -> list[Any]:
    """Load and validate runbooks; an empty list is an error (nothing to retrieve from)."""
    from netops_agent.knowledge import load_runbooks
    from netops_agent.knowledge.schema import default_path

    if path is not None:
        text_file(path, "runbook", "--runbooks")
    books = load_runbooks(path)
    if not books:
        raise InputFileError(
            str(path or default_path()),
            "has no runbooks ('runbooks:' is empty)",
            fix="list at least one runbook, or leave out --runbooks to use the shipped ones",
        )
    return books


def policy(path: Path | None) -> Any:
    from netops_agent.safety.policy import load_policy

    if path is not None:
        text_file(path, "policy", "--policy")
    return load_policy(path)


def report_path(path: Path | None) -> Path | None:
    """Where `eval --report` writes: a file ending in .html or .md whose directory can be created."""
    if path is None:
        return None
    if path.is_dir():
        raise ConfigError(f"--report {path} is a directory; pass a file such as {path}/report.html")
    if path.suffix.lower() not in REPORT_SUFFIXES:
        raise ConfigError(
            f"--report {path}: unsupported format {path.suffix or '(no extension)'!r}; "
            "use a .html or .md file name"
        )
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise ConfigError(f"--report {path}: {parent} is not a directory")
    return path


def intake(name: str | None) -> None:
    """An unknown --intake is refused before the run's records are touched."""
    if name is None:
        return
    from netops_agent.pipeline.registry import INTAKES as known

    if name not in known:
        raise ConfigError(f"unknown intake {name!r}; choose one of: {', '.join(known)}")
