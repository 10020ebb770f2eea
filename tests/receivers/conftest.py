"""Receiver fixtures: a small twin's database, a receiver hub on it, an HTTP app on loopback.

The lab database is built once per session (`lab up --profile small`) and copied for
each test, so every test starts from the same inventory with no alerts or incidents.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from netops_agent.intake.config import DetectionConfig, load_detection
from netops_agent.receivers.hub import ReceiverHub


@pytest.fixture(scope="session")
def lab_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from netops_agent.lab.sim import persist
    from netops_agent.lab.sim.lab import SimLab
    from netops_agent.store import Store

    path = tmp_path_factory.mktemp("lab") / "lab.duckdb"
    lab = SimLab.build("small", 42)
    with Store(path) as store:
        persist.save(lab, store, fresh=True)
    return path


@pytest.fixture
def lab_db(lab_template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "netops.duckdb"
    shutil.copy(lab_template, path)
    return path


@pytest.fixture
def detection() -> DetectionConfig:
    cfg = load_detection(use_env=False)
    cfg.receivers.cycle_s = 0.2
    return cfg


@pytest.fixture
def hub(lab_db: Path, detection: DetectionConfig) -> Iterator[ReceiverHub]:
    h = ReceiverHub(lab_db, config=detection, flush_s=0.05).start()
    yield h
    h.stop()


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(check: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    """Poll until `check()` is truthy (bounded; fails with `what`, never asserts on time)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.1)


class HttpServer:
    """A FastAPI app served by uvicorn on a free loopback port in a background thread."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> HttpServer:
        self.thread.start()
        wait_for(lambda: self.server.started, 15, "uvicorn to start")
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()
