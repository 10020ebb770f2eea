"""Shared CLI plumbing: options, logging set-up, JSON output, error handling."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from netops_agent.settings import Settings

if TYPE_CHECKING:
    from rich.console import Console


class LazyConsole:
    """A Rich console made on first use: `run --json` and `eval --json` print no Rich output,
    and importing Rich (~25 ms) is left to the commands that draw. Any attribute is the
    console's (`print`, `width`, `is_terminal`); `real` is the console itself, for Rich
    objects that take one (progress bars, the log handler)."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Console | None = None

    @property
    def real(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


console = LazyConsole()
err_console = LazyConsole(stderr=True)

DbOption = Annotated[
    Path | None,
    typer.Option(
        "--db", help="DuckDB file (default outputs/netops.duckdb, or $NETOPS_DB).", show_default=False
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object for scripts.")]
ForceOption = Annotated[
    bool,
    typer.Option(
        "--force", help="Use a --db file that holds other applications' tables (adds netops-agent's)."
    ),
]


def open_store(db: Path | None = None, *, read_only: bool = False, force: bool = False) -> Any:
    """The database of --db/$NETOPS_DB; waits (saying so on stderr) while another process writes."""
    from netops_agent.settings import lock_wait_s
    from netops_agent.store import Store

    path = settings(db).db_path
    return Store(
        path,
        read_only=read_only,
        force=force,
        wait_s=lock_wait_s(),
        on_wait=_say_waiting,
    )


_INTERRUPT_NOTE = [""]


def batch_gc() -> None:
    """Tune the cycle collector for a one-shot batch command (`run`, `eval`).

    What is imported by now lives until the process exits, so the collector stops walking
    it (`gc.freeze`), and young objects are collected after 200,000 allocations rather than
    700, as mypy does: a demo run spent ~0.25 s and a 500-router case ~0.6 s of CPU in the
    collector, mostly re-walking the same long-lived objects (benchmarks/bench.py --split).
    """
    import gc

    gc.freeze()
    gc.set_threshold(*BATCH_GC_THRESHOLDS)


BATCH_GC_THRESHOLDS = (200_000, 30, 30)
BATCH_COMMANDS = ("run", "eval")


def batch_gc_early(args: list[str]) -> None:
    """The batch thresholds from the very start of a batch command, before it imports the
    agent, the twin, DuckDB and pyarrow: those imports build long-lived objects by the
    hundred thousand, and at the default thresholds the collector ran ~130 times in a
    demo run (~50-90 ms of CPU) walking them; with these, not once. `batch_gc` freezes
    what was imported once the command has loaded it.

    A batch command also loads no pydantic plugins (`PYDANTIC_DISABLE_PLUGINS`, unless the
    user set it): looking for them reads the entry points of every installed distribution
    as the first model is built (~5 ms; typer's own adapters already skip them)."""
    if args[:1] and args[0] in BATCH_COMMANDS:
        import gc
        import os

        gc.set_threshold(*BATCH_GC_THRESHOLDS)
        os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    if args[:1] == ["run"] and "--help" not in sys.argv:
        open_instance_early()


def open_instance_early() -> Any:
    """Open this process's DuckDB instance (`store.instance`) on a second thread, now.

    `duckdb.connect` costs ~30 ms, during which it does not hold the GIL; `run` opens the
    instance only once it has imported the agent, the twin, pyarrow and the rest (~0.5 s
    of Python holding the GIL). Started first, the connect overlaps those imports. The
    instance is the one `instance()` gives later (whoever asks meanwhile waits for it);
    if the connect fails here, the first store connects again and reports the error.
    DuckDB itself is imported on this thread first (it holds the GIL: nothing to overlap).
    Returns the thread."""
    import threading

    from netops_agent.store.instance import instance

    def connect() -> None:
        try:
            instance()
        except Exception:  # the first store connects again and reports it, with its path
            return

    thread = threading.Thread(target=connect, name="netops-duckdb-open")
    thread.start()
    return thread


def batch_arrow_memory() -> None:
    """Arrow's buffers from the C library's allocator for a one-shot batch command (`run`).

    pyarrow's default pool (mimalloc) keeps what a large append freed for later Arrow
    allocations, while DuckDB allocates on its own: the 500-router case peaked ~20 MiB
    higher and the demo ~10 MiB, for the same CPU (`/usr/bin/time` over
    `ARROW_DEFAULT_MEMORY_POOL=mimalloc|system netops-agent run`). A user's own
    `ARROW_DEFAULT_MEMORY_POOL` is kept."""
    import os

    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return
    import pyarrow as pa

    pa.set_memory_pool(pa.system_memory_pool())


def set_interrupt_note(note: str) -> None:
    """What Ctrl-C should tell the user now (what was kept, how to go on); "" for the default."""
    _INTERRUPT_NOTE[0] = note


def interrupt_note() -> str:
    return _INTERRUPT_NOTE[0]


@contextmanager
def writing(db: Path | None, command: str, *, force: bool = False) -> Iterator[Any]:
    """The database for a command that changes the lab and its records.

    Holds the lab-writer lock (`store.writer`: one lab writer at a time; readers are
    never blocked by it) for the whole command, but the database file only while it
    writes: the store is released after the marks below and reopens on its next
    statement, so a command that releases it between units of work lets readers in.

    First settles what an earlier writer left unfinished (one line on stderr), then
    marks this command as running until it finishes. On Ctrl-C the marks are made at
    once; after kill -9 the next writer (or `doctor`) makes them.
    """
    from netops_agent import recovery
    from netops_agent.settings import lock_wait_s
    from netops_agent.store.writer import writer_lock

    path = settings(db).db_path
    with (
        writer_lock(path, command, wait_s=lock_wait_s(), on_wait=_say_waiting),
        open_store(db, force=force) as store,
    ):
        settled = recovery.settle(store)
        if settled is not None:
            err_console.print(f"[yellow]recovered[/]: {settled.line()}", highlight=False, soft_wrap=True)
        recovery.begin(store, command)
        store.release()
        try:
            yield store
        except KeyboardInterrupt:
            recovery.settle(store)
            raise
        recovery.finish(store)


def _say_waiting(msg: str) -> None:
    err_console.print(f"[dim]{msg}[/]", highlight=False)


def settings(db: Path | None = None, log: Path | None = None) -> Settings:
    return Settings.resolve(db, log)


def setup_logging(log_path: Path, verbose: bool, source: str = "--log") -> None:
    """One line per step to the log file; with --verbose, also to the console (stderr)."""
    from netops_agent.errors import ConfigError
    from netops_agent.settings import check_log_path

    check_log_path(log_path, source)
    try:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        fh = logging.FileHandler(log_path, mode="a", encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"{source} {log_path}: cannot write the log ({exc.strerror}); pass --log PATH or set NETOPS_LOG"
        ) from exc
    root = logging.getLogger("netops_agent")
    root.setLevel(logging.INFO)
    for h in list(root.handlers):
        root.removeHandler(h)
        h.close()
    fh.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root.addHandler(fh)
    if verbose:
        from rich.logging import RichHandler

        ch = RichHandler(console=err_console.real, show_path=False, markup=False)
        ch.setFormatter(logging.Formatter("%(message)s"))
        root.addHandler(ch)
    root.propagate = False


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
