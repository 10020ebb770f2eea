"""One lab writer at a time: an advisory lock file next to the database.

Commands that load the lab, change it and save it back (`run`, `solve`, `resume`,
`lab up/inject/exec/down`, `doctor` when it settles) hold `<db>.lock` for their whole
duration, but hold the DuckDB file itself only for short transactions (see
`Store.release`). So readers (`show-db`, `incidents`, the dashboard) get in between,
while two lab writers never interleave their twin states. Readers never take this lock.

The lock is `flock(2)` on the file: the kernel drops it when its process dies, even on
`kill -9`, so whoever holds it knows that an earlier writer's `running` mark (see
`recovery`) is left over from a dead process, never from a live one.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from netops_agent.errors import StoreError


class WriterBusy(StoreError):
    """Another process holds the lab-writer lock (the service answers 503: try again later)."""


def lock_path(db_path: Path | str) -> Path:
    p = Path(db_path)
    return p.with_name(p.name + ".lock")


@contextmanager
def writer_lock(
    db_path: Path | str,
    command: str,
    *,
    wait_s: float = 0.0,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold the lab-writer lock of `db_path` (nothing for an in-memory database).

    While another process holds it, say so once through `on_wait` and retry every
    0.1 s for up to `wait_s` seconds, then give up with one line naming that process.
    """
    if str(db_path) == ":memory:":
        yield
        return
    path = lock_path(db_path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StoreError(f"cannot create the writer lock {path}: {exc.strerror}") from exc
    try:
        deadline = time.monotonic() + wait_s
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                who = _holder(fd)
                if time.monotonic() >= deadline:
                    raise WriterBusy(
                        f"database {db_path} is being changed by {who}; wait for it to finish, "
                        "or pass --db PATH to use another file"
                    ) from None
                if not told and on_wait is not None:
                    on_wait(f"database {db_path} is being changed by {who}; waiting up to {wait_s:.0f} s...")
                    told = True
                time.sleep(0.1)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{command} {os.getpid()}\n".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def holder(db_path: Path | str) -> str | None:
    """Who holds the lock now (`command pid`), or None when nobody does."""
    path = lock_path(db_path)
    if str(db_path) == ":memory:" or not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _holder(fd)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _holder(fd: int) -> str:
    text = os.pread(fd, 200, 0).decode(errors="replace").split()
    if len(text) >= 2:
        return f"`{' '.join(text[:-1])}` (process {text[-1]})"
    return "another netops-agent command"


# --- readers first --------------------------------------------------------------------------
# A writer that lets go of the database between short transactions (`Store.release`) opens
# it again a few milliseconds later; a reader polling for the file would rarely hit that gap.
# So a waiting reader holds a shared record lock on byte 1 of the lock file, and the writer,
# before it opens the file again, waits (briefly) until no reader holds one: waiting readers
# go first. (Record locks are independent of the writer's flock on the same file.)


@contextmanager
def reader_waiting(db_path: Path | str) -> Iterator[None]:
    """Hold while a reader waits for the database: the next writer reopen lets it in first."""
    path = lock_path(db_path)
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # no lab writer ever used this file: nothing to signal
        yield
        return
    try:
        with suppress(OSError):
            fcntl.lockf(fd, fcntl.LOCK_SH, 1, 1)
        yield
    finally:
        os.close(fd)  # drops the record lock


def readers_waiting(db_path: Path | str) -> bool:
    """Whether a reader waits for the database now (see `reader_waiting`); never blocks."""
    if str(db_path) == ":memory:":
        return False
    try:
        fd = os.open(lock_path(db_path), os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 1)
    except OSError:
        return True
    else:
        fcntl.lockf(fd, fcntl.LOCK_UN, 1, 1)
        return False
    finally:
        os.close(fd)


def let_readers_in(db_path: Path | str, wait_s: float = 5.0) -> None:
    """Before a writer reopens the database: wait until waiting readers got in (at most `wait_s`)."""
    if str(db_path) == ":memory:":
        return
    try:
        fd = os.open(lock_path(db_path), os.O_RDWR)
    except OSError:
        return
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 1)
                fcntl.lockf(fd, fcntl.LOCK_UN, 1, 1)
                return
            except OSError:
                if time.monotonic() >= deadline:
                    return
                time.sleep(0.01)
    finally:
        os.close(fd)
