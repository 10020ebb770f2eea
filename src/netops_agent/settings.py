"""Settings resolved in one place: CLI argument, then NETOPS_* environment, then default.

Paths are checked here, before any command touches the database or the log: a value
that cannot be a file path (too long, control characters, a directory) or a new
database file with an unusual name (a mistyped `NETOPS_DB`) is refused in one line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from netops_agent.errors import ConfigError

DEFAULT_DB = Path("outputs/netops.duckdb")
DEFAULT_LOG = Path("outputs/netops.log")
DB_SUFFIXES = (".duckdb", ".db", ".ddb")
MAX_PATH = 1024  # characters; PATH_MAX is 4096 but nobody means a longer database path
MAX_NAME = 255  # one path component (NAME_MAX)


def resolve_path(cli_value: Path | None, env_name: str, default: Path) -> Path:
    """Return the CLI value if given, else the environment variable, else the default."""
    return resolve_with_source(cli_value, env_name, default)[0]


def resolve_with_source(cli_value: Path | None, env_name: str, default: Path) -> tuple[Path, str]:
    """`resolve_path` and where the value came from (for error messages)."""
    if cli_value is not None:
        return cli_value, "--" + env_name.removeprefix("NETOPS_").lower()
    env = os.environ.get(env_name)
    if env:
        return Path(env), env_name
    return default, "default"


def _plausible(path: Path, source: str, what: str) -> None:
    text = str(path)
    shown = text if len(text) <= 60 else text[:40] + "..." + text[-12:]
    if len(text) > MAX_PATH or any(len(part) > MAX_NAME for part in path.parts):
        raise ConfigError(
            f"{source} is not a plausible {what} path ({len(text)} characters: {shown}); "
            "give a short file path such as outputs/netops.duckdb"
        )
    if any(ord(c) < 32 for c in text):
        raise ConfigError(f"{source} contains control characters ({shown!r}); give a plain file path")
    if path.is_dir():
        raise ConfigError(f"{source} {shown} is a directory; give a file path inside it")


def check_db_path(path: Path, source: str = "--db") -> Path:
    """Refuse a database path that cannot be meant (see the module docstring)."""
    if str(path) == ":memory:":
        return path
    _plausible(path, source, "database")
    if not path.exists() and path.suffix.lower() not in DB_SUFFIXES:
        raise ConfigError(
            f"{source} {path} does not exist and does not end in .duckdb; "
            f"use a name like {path.with_suffix('.duckdb')} "
            "(a mistyped path would silently create a new, empty database)"
        )
    if path.exists() and not path.is_file():
        raise ConfigError(f"{source} {path} is not a regular file")
    return path


def check_log_path(path: Path, source: str = "--log") -> Path:
    """Refuse a log path that cannot be appended to, before anything runs."""
    _plausible(path, source, "log")
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if path.exists():
        writable = os.access(path, os.W_OK)
    else:
        writable = parent.is_dir() and os.access(parent, os.W_OK | os.X_OK)
    if not writable:
        raise ConfigError(
            f"{source} {path}: cannot write there (permission denied); "
            "pass --log PATH or set NETOPS_LOG to a writable file"
        )
    return path


def lock_wait_s() -> float:
    """Seconds a command waits for another process's database lock ($NETOPS_LOCK_WAIT, default 30)."""
    raw = os.environ.get("NETOPS_LOCK_WAIT", "")
    if not raw:
        return 30.0
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"NETOPS_LOCK_WAIT={raw!r} is not a number of seconds") from None
    if not 0 <= value <= 86400:
        raise ConfigError(f"NETOPS_LOCK_WAIT={raw!r} must be between 0 and 86400 seconds")
    return value


def cache_dir() -> Path | None:
    """Where compiled things (the fitted runbook index) are kept between processes.

    $NETOPS_CACHE, else $XDG_CACHE_HOME/netops-agent, else ~/.cache/netops-agent;
    `NETOPS_CACHE=off` keeps nothing. A cache is only ever an accelerator: a missing,
    unreadable or unwritable one costs time, never a result.
    """
    raw = os.environ.get("NETOPS_CACHE", "")
    if raw.lower() in ("off", "0", "none", "no"):
        return None
    if raw:
        return Path(raw)
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "netops-agent"


@dataclass(frozen=True)
class Settings:
    db_path: Path = DEFAULT_DB
    log_path: Path = DEFAULT_LOG
    log_source: str = "default"

    @classmethod
    def resolve(cls, db: Path | None = None, log: Path | None = None) -> Settings:
        db_path, db_source = resolve_with_source(db, "NETOPS_DB", DEFAULT_DB)
        log_path, log_source = resolve_with_source(log, "NETOPS_LOG", DEFAULT_LOG)
        check_db_path(db_path, db_source)
        return cls(db_path=db_path, log_path=log_path, log_source=log_source)

    def checked_log(self) -> Path:
        """The log path, refused in one line if it cannot be written."""
        return check_log_path(self.log_path, self.log_source)
