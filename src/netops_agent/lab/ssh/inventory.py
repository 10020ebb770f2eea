"""Nornir SimpleInventory out (for the twin) and in (for real gear).

`write_nornir` writes hosts.yaml / groups.yaml / defaults.yaml that `nornir` with
`nornir_netmiko` or `nornir_scrapli` can use as is. `load_nornir` reads one with
Nornir's own SimpleInventory (groups and defaults resolved by Nornir) and returns
the SSH targets; credentials come from the inventory or, when absent there, from
`$NETOPS_SSH_USERNAME`, `$NETOPS_SSH_PASSWORD` and `$NETOPS_SSH_SECRET`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from netops_agent.errors import InputFileError
from netops_agent.lab.ssh.transport import SshTarget

PLATFORMS = ("cisco_ios",)
ENV_USER, ENV_PASSWORD, ENV_SECRET = "NETOPS_SSH_USERNAME", "NETOPS_SSH_PASSWORD", "NETOPS_SSH_SECRET"


@dataclass
class NornirHost:
    name: str
    hostname: str
    port: int
    data: dict[str, Any] = field(default_factory=dict)


def write_nornir(directory: Path, hosts: list[NornirHost], username: str, password: str) -> list[Path]:
    """A SimpleInventory for `hosts`, one group `twin` carrying platform and options."""
    directory.mkdir(parents=True, exist_ok=True)
    host_rows = {
        h.name: {"hostname": h.hostname, "port": h.port, "groups": ["ios"], "data": h.data} for h in hosts
    }
    groups = {
        "ios": {
            "platform": "cisco_ios",
            "connection_options": {
                "netmiko": {"extras": {"secret": password}},
                "scrapli": {
                    "platform": "cisco_iosxe",
                    "extras": {
                        "auth_strict_key": False,
                        "auth_secondary": password,
                        "transport": "paramiko",
                        "ssh_config_file": False,
                    },
                },
            },
        }
    }
    defaults = {"username": username, "password": password}
    written = []
    for name, body in (("hosts.yaml", host_rows), ("groups.yaml", groups), ("defaults.yaml", defaults)):
        path = directory / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it holds credentials
        with os.fdopen(fd, "w") as fh:
            yaml.safe_dump(body, fh, sort_keys=False)
        written.append(path)
    return written


def _files(path: Path) -> tuple[Path, Path, Path]:
    """hosts/groups/defaults paths from a directory or a hosts.yaml path."""
    base = path if path.is_dir() else path.parent
    hosts = path if path.is_file() else base / "hosts.yaml"
    if not hosts.exists():
        raise InputFileError(
            str(hosts),
            "no Nornir hosts file",
            fix="pass --inventory DIR with hosts.yaml (groups/defaults optional)",
        )
    return hosts, base / "groups.yaml", base / "defaults.yaml"


def load_nornir(path: Path) -> tuple[dict[str, SshTarget], dict[str, dict[str, Any]]]:
    """SSH targets and host data from a Nornir SimpleInventory (a directory or hosts.yaml)."""
    from nornir.plugins.inventory import SimpleInventory

    hosts_file, groups_file, defaults_file = _files(path)
    try:
        inv = SimpleInventory(str(hosts_file), str(groups_file), str(defaults_file)).load()
    except (yaml.YAMLError, TypeError, ValueError, KeyError, AttributeError) as exc:
        raise InputFileError(str(hosts_file), f"not a Nornir SimpleInventory: {exc}") from None
    if not inv.hosts:
        raise InputFileError(str(hosts_file), "no hosts", fix="list at least one device under its name")
    targets: dict[str, SshTarget] = {}
    data: dict[str, dict[str, Any]] = {}
    for name, host in inv.hosts.items():
        platform = host.platform or ""
        if platform not in PLATFORMS:
            raise InputFileError(
                str(hosts_file),
                f"host {name}: platform {platform or '(none)'!r} is not supported",
                where=f"hosts.{name}.platform",
                fix="set `platform: cisco_ios` on the host, a group or defaults",
            )
        username = host.username or os.environ.get(ENV_USER, "")
        password = host.password or os.environ.get(ENV_PASSWORD, "")
        if not username or not password:
            raise InputFileError(
                str(hosts_file),
                f"host {name}: no username/password",
                fix=f"set them in the inventory (host, group, defaults) or ${ENV_USER} and ${ENV_PASSWORD}",
            )
        extras = host.get_connection_parameters("netmiko").extras or {}
        secret = extras.get("secret") or os.environ.get(ENV_SECRET, "") or password
        targets[name] = SshTarget(
            host=host.hostname or name,
            port=int(host.port or 22),
            username=username,
            password=password,
            secret=secret,
            platform=platform,
        )
        data[name] = dict(host.data)
    return targets, data
