"""Fixtures for `netops-agent serve`: one database filled by a real `run` (and a small
`eval`) per session; copies of it for tests that write; the app under FastAPI's test client.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parent
EXE = shutil.which("netops-agent", path=str(Path(sys.executable).parent)) or "netops-agent"


def cli_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NETOPS_")}
    env["COLUMNS"] = "160"
    return env


def netops(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [EXE, *args], cwd=cwd, capture_output=True, text=True, env=cli_env(), timeout=timeout
    )
    if proc.returncode != 0:
        raise AssertionError(f"netops-agent {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}")
    return proc


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """A database after the real demo `run` and a two-agent `eval` of a two-case suite (read it only).

    Built once per test session: pytest-xdist workers share it through a file lock.
    """
    base = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        base = base.parent
    root = base / "serve-demo"
    root.mkdir(exist_ok=True)
    db = root / "demo.duckdb"
    with open(root / "build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / "ready").exists():
            _build_demo(root, db)
            (root / "ready").write_text("ok")
    return db


def _build_demo(root: Path, db: Path) -> None:
    netops("run", "--db", str(db), "--log", str(root / "run.log"), cwd=root)
    netops(
        "eval",
        "--suite",
        str(HERE / "data" / "tiny.yaml"),
        "--agent",
        "default",
        "--agent",
        "random",
        "--db",
        str(db),
        "--log",
        str(root / "eval.log"),
        cwd=root,
    )


@pytest.fixture
def db_copy(demo_db: Path, tmp_path: Path) -> Path:
    """A private copy of the demo database for a test that writes."""
    dst = tmp_path / "copy.duckdb"
    shutil.copyfile(demo_db, dst)
    return dst


def make_client(db: Path, **kwargs: Any) -> Any:
    from fastapi.testclient import TestClient

    from netops_agent.serve.app import create_app

    return TestClient(create_app(db, **kwargs), raise_server_exceptions=False)


@pytest.fixture
def client(demo_db: Path) -> Iterator[Any]:
    """The app over the shared demo database (reads only)."""
    with make_client(demo_db, hold_s=0) as c:
        yield c


def wait_for(predicate: Any, timeout: float = 60.0, every: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every)
