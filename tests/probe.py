"""Run a piece of Python in a fresh interpreter and read what it reports (imports, state
at start-up: what an in-process test cannot see once the test session imported it all)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any


def run_probe(
    code: str, args: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None
) -> Any:
    """`python -c code ARGS_JSON` (the arguments as one JSON list in `sys.argv[1]`); the
    JSON document on the last line it prints. A probe that exits non-zero raises
    `CalledProcessError` (its `stderr` holds the traceback)."""
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])
