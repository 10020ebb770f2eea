"""Progress on stderr: a Rich bar on a terminal, nothing when piped or with --json."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from netops_agent.cli.common import err_console

Tick = Callable[[str], None]


@contextmanager
def bar(label: str, total: int, *, quiet: bool = False, unit: str = "cases") -> Iterator[Tick]:
    """Yield `tick(note)`: one more of `total` done. A no-op off a terminal or when quiet."""
    if quiet or not err_console.is_terminal or total <= 0:
        yield lambda note="": None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(bar_width=None),
        MofNCompleteColumn(),
        TextColumn(unit),
        TimeElapsedColumn(),
        console=err_console.real,
        transient=True,
    ) as progress:
        task = progress.add_task(label, total=total)

        def tick(note: str = "") -> None:
            progress.update(task, advance=1, description=f"{label} {note}".rstrip())

        yield tick


@contextmanager
def incidents(label: str, *, quiet: bool = False) -> Iterator[None]:
    """Incidents worked / opened so far, as tickets open and reach an outcome (terminal only)."""
    if quiet or not err_console.is_terminal:
        yield
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from netops_agent.tickets import service

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(bar_width=None),
        MofNCompleteColumn(),
        TextColumn("incidents"),
        TimeElapsedColumn(),
        console=err_console.real,
        transient=True,
    ) as progress:
        task = progress.add_task(label, total=0)
        counts = {"opened": 0, "done": 0}

        def seen(event: str, ticket_id: str) -> None:
            counts[event] += 1
            progress.update(task, total=counts["opened"], completed=counts["done"])

        service.OBSERVERS.append(seen)
        try:
            yield
        finally:
            service.OBSERVERS.remove(seen)
