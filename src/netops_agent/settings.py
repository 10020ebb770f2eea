"""Settings resolved in one place: CLI argument, then NETOPS_* environment, then default."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DB = Path("outputs/netops.duckdb")
DEFAULT_LOG = Path("outputs/netops.log")


def resolve_path(cli_value: Path | None, env_name: str, default: Path) -> Path:
    """Return the CLI value if given, else the environment variable, else the default."""
    if cli_value is not None:
        return cli_value
    env = os.environ.get(env_name)
    if env:
        return Path(env)
    return default


@dataclass(frozen=True)
class Settings:
    db_path: Path = DEFAULT_DB
    log_path: Path = DEFAULT_LOG

    @classmethod
    def resolve(cls, db: Path | None = None, log: Path | None = None) -> Settings:
        return cls(
            db_path=resolve_path(db, "NETOPS_DB", DEFAULT_DB),
            log_path=resolve_path(log, "NETOPS_LOG", DEFAULT_LOG),
        )
