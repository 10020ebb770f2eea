"""End-to-end fixtures: the real `netops-agent` command in a temporary working directory."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

EXE = shutil.which("netops-agent", path=str(Path(sys.executable).parent)) or "netops-agent"


class Cli:
    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NETOPS_")}
        env["COLUMNS"] = "160"
        return env | extra

    def __call__(
        self, *args: str, check: bool = True, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        env = self.env(**(env or {}))
        proc = subprocess.run(
            [EXE, *args], cwd=self.cwd, capture_output=True, text=True, env=env, timeout=300
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"netops-agent {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}")
        return proc

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--json").stdout)


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)


@pytest.fixture(scope="session")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The records of one finished `run --scenario smoke` (tests copy them, never change them)."""
    c = Cli(tmp_path_factory.mktemp("finished"))
    c("run", "--scenario", "smoke", "--json")
    return c.cwd / "outputs"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Cli, dict[str, Any]]:
    """The default demo, run once per module."""
    c = Cli(tmp_path_factory.mktemp("demo"))
    return c, c.json("run")
