"""Every command's summary (the first paragraph of its help) is one line: typer's Rich help
keeps a summary's line breaks in the command listings, so a two-line summary breaks
mid-sentence in `netops-agent --help`."""

from __future__ import annotations

import inspect

import click
import typer

from netops_agent.cli import app as cli_app


def _commands(group: click.Command, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name, sub in getattr(group, "commands", {}).items():
        found.append((prefix + name, sub))
        found.extend(_commands(sub, prefix + name + " "))
    return found


def test_every_command_has_a_one_line_summary() -> None:
    cli_app._register_subcommands()
    commands = _commands(typer.main.get_command(cli_app.app))
    assert {"doctor", "approvals", "lab exec", "notifications retry"} <= {n for n, _ in commands}
    broken = {name: inspect.cleandoc(c.help or "").split("\n\n")[0] for name, c in commands}
    assert {name: first for name, first in broken.items() if "\n" in first or not first} == {}
