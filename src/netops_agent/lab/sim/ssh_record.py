"""The record of a running SSH lab: one JSON file next to the database, read by every command.

`lab up --ssh` (lab.sim.ssh_lab) writes it before the server starts; the server
(lab.sim.ssh_server) adds its pid and ports once it listens. It holds the lab's
password, so it is written 0600 and replaced atomically.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from netops_agent.errors import LabError

RECORD = "ssh.json"


def runtime_for(db_path: Path) -> Path:
    return db_path.parent / f"{db_path.stem}.ssh"


def read_record(runtime: Path) -> dict[str, Any]:
    try:
        return json.loads((runtime / RECORD).read_text())
    except FileNotFoundError:
        return {}
    except json.JSONDecodeError as exc:
        raise LabError(f"{runtime / RECORD} is damaged ({exc}); run `netops-agent lab down`") from None


def write_record(runtime: Path, record: dict[str, Any]) -> None:
    tmp = runtime / f".{RECORD}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # holds the lab's password
    with os.fdopen(fd, "w") as fh:
        json.dump(record, fh, indent=2)
    tmp.replace(runtime / RECORD)
