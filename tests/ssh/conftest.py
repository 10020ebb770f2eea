"""One interactive twin served over SSH per test session (a real background server).

`lab up --ssh --ssh-port-base 0` runs in a temporary directory: every router listens
on a free loopback port; the fixture hands out the CLI, the server's record (ports,
generated credentials) and takes the lab down at the end.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Cli


@dataclass
class SshLab:
    cli: Cli
    dir: Path
    record: dict[str, Any]

    @property
    def password(self) -> str:
        return self.record["password"]

    def port(self, device: str) -> int:
        return int(self.record["ports"][device])

    def netmiko(self, device: str) -> Any:
        from netmiko import ConnectHandler

        return ConnectHandler(
            device_type="cisco_ios", host="127.0.0.1", port=self.port(device),
            username="admin", password=self.password, secret=self.password,
        )  # fmt: skip


@pytest.fixture(scope="session")
def ssh_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshLab]:
    where = tmp_path_factory.mktemp("sshlab")
    cli = Cli(where)
    up = cli.json("lab", "up", "--ssh", "--ssh-port-base", "0")
    record = json.loads((where / "outputs" / "netops.ssh" / "ssh.json").read_text())
    assert up["ssh"]["ports"] == record["ports"]
    yield SshLab(cli, where, record)
    cli("lab", "down")
