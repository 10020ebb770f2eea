"""The FRR lab's state file: everything `up` creates, recorded before it is created.

`lab down` and `FrrLab.attach` read this file, so it lists every namespace, veth,
daemon directory, process and injected fault of a lab. It is written atomically
(temporary file + rename) before each step that creates something, which is what
lets `down` clean up after a crash half-way through `up`.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from netops_agent.errors import LabError
from netops_agent.models import InjectedFault, Inventory

STATE_FILE = "frr-lab.json"
STATE_VERSION = 1


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RouterState(_Model):
    name: str
    ns: str  # network namespace, also the FRR pathspace (-N)
    dir: str  # daemon directory: start config, pid files, logs, vty sockets
    pids: dict[str, int] = Field(default_factory=dict)


class LinkState(_Model):
    id: str
    bridge: str  # in the wire namespace: the "cable"
    a_port: str  # wire-side veth of the a end
    b_port: str


class HostState(_Model):
    """A customer host behind a leaf: its own namespace, one address, a default route."""

    ns: str
    ip: str
    gateway: str


class HelperProcess(_Model):
    pid: int
    ns: str
    marker: str  # a string in its command line, checked before signalling it
    purpose: str
    fault_id: str = ""


class LabState(_Model):
    version: int = STATE_VERSION
    status: str = "creating"  # creating | up | failed
    prefix: str
    runtime_dir: str
    created_at: str
    inventory: Inventory
    wire_ns: str
    routers: dict[str, RouterState]
    links: list[LinkState]
    hosts: dict[str, HostState] = Field(default_factory=dict)  # leaf -> its customer host
    cut_links: list[str] = Field(default_factory=list, description="cables cut (link_failure)")
    faults: list[InjectedFault] = Field(default_factory=list)
    fault_seq: int = 0
    acl_bindings: dict[str, dict[str, dict[str, str]]] = Field(
        default_factory=dict, description="device -> interface -> direction -> ACL name"
    )
    helpers: list[HelperProcess] = Field(default_factory=list)
    timings: dict[str, float] = Field(default_factory=dict)
    ospf_gr_file_preexisting: bool = True
    created_runtime_dir: bool = False
    frr_version: str | None = None

    def namespaces(self) -> list[str]:
        hosts = [h.ns for h in self.hosts.values()]
        return [r.ns for r in self.routers.values()] + [self.wire_ns, *hosts]

    def router(self, name: str) -> RouterState:
        try:
            return self.routers[name]
        except KeyError:
            from netops_agent.errors import UnknownDeviceError

            raise UnknownDeviceError(
                f"unknown router {name!r} in the FRR lab; routers: {', '.join(self.routers)}"
            ) from None

    def link(self, link_id: str) -> LinkState:
        for link in self.links:
            if link.id == link_id:
                return link
        raise LabError(f"unknown link {link_id!r} in the FRR lab state")


def state_path(runtime_dir: Path) -> Path:
    return Path(runtime_dir) / STATE_FILE


def save_state(state: LabState) -> None:
    """Write the state file atomically (a crash never leaves half a file)."""
    path = state_path(Path(state.runtime_dir))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(state.model_dump_json(indent=2))
    os.replace(tmp, path)


def load_state(runtime_dir: Path) -> LabState | None:
    """The lab state in `runtime_dir`, or None if there is no state file."""
    path = state_path(Path(runtime_dir))
    if not path.exists():
        return None
    try:
        raw: Any = json.loads(path.read_text())
        return LabState.model_validate(raw)
    except (json.JSONDecodeError, ValidationError) as exc:
        raise LabError(
            f"{path}: the FRR lab state file is unreadable ({exc.__class__.__name__}); "
            "remove the namespaces listed in it by hand (ip netns del NAME) or delete the file"
        ) from exc
