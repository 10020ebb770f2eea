"""Database access for the web service: one DuckDB file, two ways to hold it.

DuckDB allows one writer process, and even a reader holds a file lock that keeps a
writer out; within one process, read-only and read-write connections to the same file
cannot coexist. So:

- **lease** (`hold_s` seconds, the default for `serve`): the service holds the file only
  briefly. Reads share one read-only connection that is closed after `hold_s` seconds
  without a request (a burst of page and API requests pays the ~50 ms open once); each
  write opens the file read-write for that request only. A `netops-agent run` in
  another process can write the file between requests; while it does, requests get
  `DatabaseBusy` (HTTP 503 with Retry-After) instead of an error page.
- **shared** (`hold_s=None`, `serve --exclusive`): one read-write connection for the
  service's life, each request on its own cursor (requests run in parallel; in-process
  writers such as webhook receivers write cheaply). Other processes cannot open the file
  meanwhile.

In both modes a background job (a `netops-agent` child process) gets the file by
`lend()`: new requests get `DatabaseBusy` until `reclaim()` after the child exits.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from netops_agent.errors import StoreError
from netops_agent.store import Store

_LOCK_WORDS = ("lock", "Conflicting", "is in use by")


class DatabaseBusy(StoreError):
    """Another process holds the database's write lock."""


class DatabaseMissing(StoreError):
    """The database file does not exist yet."""


class StoreAccess:
    """Hands request handlers a Store on the service's database (thread-safe)."""

    def __init__(self, path: Path | str, *, hold_s: float | None = 0.5) -> None:
        self.path = Path(path)
        self.hold_s = hold_s
        self.shared = hold_s is None
        self._lock = threading.RLock()  # lease mode: one request at a time on the file
        self._state = threading.Condition()  # shared mode: active cursors, lending
        self._active = 0
        self._lent_to: str | None = None
        self._main: Store | None = None  # shared mode's read-write connection
        self._reader: Store | None = None  # lease mode's read-only connection
        self._last_used = 0.0
        self._verified: tuple[int, int] | None = None  # the file Store() last checked and migrated
        self._stop = threading.Event()
        self._reaper: threading.Thread | None = None
        self._early: threading.Thread | None = None

    # --- what handlers use ---------------------------------------------------------------
    def read(self) -> AbstractContextManager[Store]:
        """A Store to read from (read-only in lease mode)."""
        return self._cursor() if self.shared else self._lease_read()

    def write(self) -> AbstractContextManager[Store]:
        """A Store to write to; in lease mode the file is given back at the end."""
        return self._cursor() if self.shared else self._lease_write()

    def warm(self, keep_s: float = 0.0) -> None:
        """Open (and check) the database now, at start, so the first page does not pay for
        it, and keep the read connection at least `keep_s` seconds (the service may still be
        loading); quietly does nothing if it cannot (the first request says why)."""
        try:
            with self.read() as store:
                store.scalar("SELECT count(*) FROM incidents")
            self._last_used = max(self._last_used, time.monotonic() + keep_s)
        except StoreError:
            pass

    def open_early(self, keep_s: float = 3.0) -> None:
        """`warm` on a thread: DuckDB opens the file (without the GIL) while the caller goes
        on loading the service (FastAPI, the routes)."""
        self._early = threading.Thread(target=self.warm, args=(keep_s,), name="netops-open", daemon=True)
        self._early.start()

    def checked(self) -> bool:
        """Whether this service has opened and checked the file (waits for `open_early`)."""
        if self._early is not None:
            self._early.join()
        return self._verified is not None

    # --- what jobs use ----------------------------------------------------------------------
    def lend(self, who: str) -> None:
        """Close every connection of this process so a child process can write the file."""
        if self.shared:
            with self._state:
                self._lent_to = who
                while self._active:
                    self._state.wait()
                if self._main is not None:
                    self._main.close()
                    self._main = None
            return
        with self._lock:
            self._lent_to = who
            self._close_reader()

    def reclaim(self) -> None:
        with self._state:
            self._lent_to = None
            self._state.notify_all()

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            self._close_reader()
        with self._state:
            if self._main is not None:
                self._main.close()
                self._main = None

    # --- internals --------------------------------------------------------------------------
    def _check_lent(self) -> None:
        if self._lent_to:
            raise DatabaseBusy(
                f"database {self.path} is busy: {self._lent_to} is writing it; this clears when it ends"
            )

    @contextmanager
    def _cursor(self) -> Iterator[Store]:
        with self._state:
            self._check_lent()
            if self._main is None:
                self._main = self._open(read_only=False)
            cursor = Store.attach(self._main.connection.cursor(), str(self.path))
            self._active += 1
        try:
            yield cursor
        finally:
            cursor.close()
            with self._state:
                self._active -= 1
                self._state.notify_all()

    @contextmanager
    def _lease_read(self) -> Iterator[Store]:
        with self._lock:
            self._check_lent()
            if self._reader is None:
                self._reader = self._open(read_only=True)
                self._start_reaper()
            try:
                yield self._reader
            finally:
                self._last_used = time.monotonic()
                if self.hold_s is not None and self.hold_s <= 0:
                    self._close_reader()

    @contextmanager
    def _lease_write(self) -> Iterator[Store]:
        with self._lock:
            self._check_lent()
            self._close_reader()
            store = self._open(read_only=False)
            try:
                yield store
            finally:
                store.close()

    def _close_reader(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def _open(self, *, read_only: bool) -> Store:
        if read_only and not self.path.exists():
            raise DatabaseMissing(
                f"no database at {self.path} yet: run `netops-agent run --db {self.path}` "
                "(or start a run from the dashboard's overview)"
            )
        try:
            ident = self._file_id()
            if read_only and ident is not None and ident == self._verified:
                # The file this service already checked (schema ours and migrated): reopen
                # with the connection alone, which is what a page after a pause waits for.
                return Store.reopen(self.path)
            store = Store(self.path, read_only=read_only)
            self._verified = ident
            return store
        except StoreError as exc:
            text = str(exc)
            if any(w in text for w in _LOCK_WORDS):
                raise DatabaseBusy(
                    f"database {self.path} is busy: another process is writing it (DuckDB allows "
                    "one writer at a time, e.g. a `netops-agent run`); retry in a few seconds"
                ) from exc
            raise

    def _file_id(self) -> tuple[int, int] | None:
        """The file's identity: a file replaced by another (a new inode) is checked again."""
        try:
            st = self.path.stat()
        except OSError:
            return None
        return st.st_dev, st.st_ino

    def _start_reaper(self) -> None:
        if self._reaper is not None or not self.hold_s or self.hold_s <= 0:
            return
        self._reaper = threading.Thread(target=self._reap, name="netops-db-reaper", daemon=True)
        self._reaper.start()

    def _reap(self) -> None:
        assert self.hold_s is not None
        tick = min(0.25, self.hold_s / 2)
        while not self._stop.wait(tick):
            if self._reader is None or time.monotonic() - self._last_used < self.hold_s:
                continue
            # Never wait for a request in progress: the reaper only closes an idle reader.
            if self._lock.acquire(blocking=False):
                try:
                    if self._reader is not None and time.monotonic() - self._last_used >= self.hold_s:
                        self._close_reader()
                finally:
                    self._lock.release()
