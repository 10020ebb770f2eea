"""Shared CLI plumbing: options, logging set-up, JSON output, error handling."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.logging import RichHandler

from netops_agent.settings import Settings

console = Console()
err_console = Console(stderr=True)

DbOption = Annotated[
    Path | None,
    typer.Option(
        "--db", help="DuckDB file (default outputs/netops.duckdb, or $NETOPS_DB).", show_default=False
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object for scripts.")]


def settings(db: Path | None = None, log: Path | None = None) -> Settings:
    return Settings.resolve(db, log)


def setup_logging(log_path: Path, verbose: bool) -> None:
    """One line per step to the log file; with --verbose, also to the console (stderr)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger("netops_agent")
    root.setLevel(logging.INFO)
    for h in list(root.handlers):
        root.removeHandler(h)
        h.close()
    fh = logging.FileHandler(log_path, mode="a", encoding="utf-8")
    fh.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root.addHandler(fh)
    if verbose:
        ch = RichHandler(console=err_console, show_path=False, markup=False)
        ch.setFormatter(logging.Formatter("%(message)s"))
        root.addHandler(ch)
    root.propagate = False


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
