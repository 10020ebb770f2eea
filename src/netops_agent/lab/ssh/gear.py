"""`GearLab`: real Cisco IOS devices from a Nornir inventory, reached over SSH.

The Lab protocol on real gear:
- **inventory**: the Nornir hosts (role/site/asn/loopback from each host's `data`),
  their interfaces as `show ip interface brief` lists them, and cables from a NetBox
  export when one is given;
- **golden config**: the running config archived when the lab was opened (real gear
  has no twin-side source of truth; the archive is the baseline drift is measured from);
- **read-only by default**: only `show`, `ping` and `traceroute` reach a device unless
  `allow_changes` is set; a refused change is a `CommandOutput` naming the device and
  the flag, never a silent no-op;
- **every change is archived first**: `show running-config` goes into the
  `config_archive` table before the lines are sent; the agent's validation rolls the
  device back to it when the change does not fix the symptom;
- **telemetry**: `Poller` reads interface counters and state (`show interfaces`), CPU
  and memory, and BGP sessions into `telemetry` with the twin's metric names;
- **time** is the wall clock; `advance` sleeps (capped) and polls when a poll is due.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from netops_agent.lab.base import CommandOutput
from netops_agent.lab.ssh.transport import SshTarget, SshTransport
from netops_agent.models import Device, Interface, Inventory, Site
from netops_agent.store.db import utcnow

log = logging.getLogger("netops_agent.gear")
READ_ONLY = ("show", "ping", "traceroute")


def refused(device: str, what: str) -> CommandOutput:
    text = (
        f"% read-only: netops-agent did not {what} on {device}; real gear is read-only unless "
        "`--allow-changes` is given (changes still pass the policy and approvals)"
    )
    return CommandOutput(ok=False, text=text + "\n", error=text, meta={"refused": True})


class GearLab:
    """Real devices over SSH, read-only unless `allow_changes`."""

    backend = "ssh"
    platform = "cisco_ios"

    def __init__(
        self,
        targets: dict[str, SshTarget],
        store: Any,
        *,
        data: dict[str, dict[str, Any]] | None = None,
        allow_changes: bool = False,
        netbox: Inventory | None = None,
        transport: SshTransport | None = None,
        max_wait_s: float = 30.0,
    ) -> None:
        self.targets = targets
        self.store = store
        self.data = data or {}
        self.allow_changes = allow_changes
        self.transport = transport or SshTransport(targets)
        self.max_wait_s = max_wait_s
        self.baseline: dict[str, str] = {}
        self._inv = self._inventory(netbox)
        self.poller: Poller | None = None
        self.polled: list[pa.Table] = []

    @classmethod
    def from_nornir(cls, path: Path, store: Any, **kw: Any) -> GearLab:
        from netops_agent.lab.ssh.inventory import load_nornir

        targets, data = load_nornir(path)
        return cls(targets, store, data=data, **kw)

    # --- inventory -------------------------------------------------------------------------------
    def _inventory(self, netbox: Inventory | None) -> Inventory:
        devices, sites = [], {}
        for name in self.targets:
            d = self.data.get(name, {})
            site = str(d.get("site", "site1"))
            sites.setdefault(site, Site(name=site, slug=site, region=""))
            role = d.get("role") if d.get("role") in ("spine", "leaf", "edge") else "leaf"
            loop = str(d.get("loopback", ""))
            devices.append(
                Device(
                    name=name,
                    site=site,
                    role=role,
                    asn=int(d.get("asn", 0) or 0),
                    loopback=loop,
                    router_id=loop,
                )
            )
        links = list(netbox.links) if netbox else []
        interfaces = [i for i in netbox.interfaces if i.device in self.targets] if netbox else []
        return Inventory(
            sites=list(sites.values()), devices=devices, interfaces=interfaces, links=links, bgp_sessions=[]
        )

    def discover(self) -> None:
        """Interfaces from `show ip interface brief` and the baseline config of every device."""
        from netops_agent.tools import ios

        known = {(i.device, i.name) for i in self._inv.interfaces}
        found = []
        for name in self.targets:
            out = self.transport.execute(name, "show ip interface brief")
            if out.ok:
                for row in ios.show_ip_interface_brief(out, None):
                    if (name, row["interface"]) not in known:
                        kind = "loopback" if row["interface"].startswith("Loopback") else "p2p"
                        ip = row.get("ip_address") if row.get("ip_address", "").count(".") == 3 else None
                        found.append(Interface(device=name, name=row["interface"], kind=kind, ip=ip))
            self.baseline[name] = self.archive(name, "baseline") or ""
        self._inv = self._inv.model_copy(update={"interfaces": [*self._inv.interfaces, *found]})

    def archive(self, device: str, reason: str) -> str | None:
        """`show running-config` into `config_archive`; returns the config (None if unreadable)."""
        out = self.transport.execute(device, "show running-config")
        if not out.ok:
            return None
        self.store.insert(
            "config_archive",
            {
                "id": uuid.uuid4().hex[:12],
                "ts": utcnow(),
                "device": device,
                "reason": reason,
                "config": out.text,
            },
        )
        return out.text

    # --- the Lab protocol ------------------------------------------------------------------------
    def inventory(self) -> Inventory:
        return self._inv

    def golden_config(self, device: str) -> str:
        self._inv.device(device)
        return self.baseline.get(device, "")

    def execute(self, device: str, command: str) -> CommandOutput:
        self._inv.device(device)
        words = command.split()
        if not self.allow_changes and (not words or not words[0].lower().startswith(READ_ONLY)):
            return refused(device, f"run {command!r}")
        return self.transport.execute(device, command)

    def configure(self, device: str, lines: list[str], **_: Any) -> CommandOutput:
        self._inv.device(device)
        if not self.allow_changes:
            return refused(device, "change the configuration")
        if self.archive(device, "before change") is None:
            return CommandOutput(ok=False, text="", error=f"could not archive the running config of {device}")
        return self.transport.configure(device, lines)

    def now(self) -> datetime:
        return utcnow()

    def advance(self, seconds: float) -> None:
        deadline = time.monotonic() + min(float(seconds), self.max_wait_s)
        while (left := deadline - time.monotonic()) > 0:
            time.sleep(min(left, 1.0))
            if self.poller is not None and left > 1.0:
                self.poller.maybe_poll()

    def state_hash(self) -> str:
        parts = []
        for name in sorted(self.targets):
            out = self.transport.execute(name, "show running-config")
            parts.append(f"{name}\n{_stable(out.text) if out.ok else 'unreachable'}")
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()

    def close(self) -> None:
        self.transport.close()

    def telemetry_since(self, since: datetime | None = None) -> pa.Table:
        import pyarrow.compute as pc

        from netops_agent.lab.base import TELEMETRY_SCHEMA

        if not self.polled:
            return TELEMETRY_SCHEMA.empty_table()
        table = pa.concat_tables(self.polled).cast(TELEMETRY_SCHEMA)
        return (
            table
            if since is None
            else table.filter(pc.greater(table["ts"], pa.scalar(since, pa.timestamp("us"))))
        )

    def view(self) -> Any:
        """The sealed `NetworkView` the intake and the agent get (closures only)."""
        from netops_agent.lab.base import CallTransport, NetworkView

        lab = self
        return NetworkView(
            backend="ssh",
            platform="cisco_ios",
            inventory=lambda: lab.inventory(),
            golden_config=lambda device: lab.golden_config(device),
            transport=CallTransport(lambda d, c: lab.execute(d, c), lambda d, lines: lab.configure(d, lines)),
            now=lambda: lab.now(),
            wait=lambda s: lab.advance(s),
            telemetry_since=lambda since: lab.telemetry_since(since),
        )


def _stable(config: str) -> str:
    """Running config without the lines that change on every read (timestamps, sizes)."""
    skip = ("Building configuration", "Current configuration", "! Last configuration", "! NVRAM")
    return "\n".join(ln for ln in config.splitlines() if not ln.startswith(skip))


@dataclass
class Poller:
    """Interface counters/state, CPU, memory and BGP sessions into `telemetry`, on an interval."""

    lab: GearLab
    interval_s: float = 10.0
    last: float = field(default=0.0)
    samples: int = 0

    def maybe_poll(self) -> None:
        if time.monotonic() - self.last >= self.interval_s:
            self.poll()

    def poll(self) -> int:
        from netops_agent.tools import ios

        self.last = time.monotonic()
        rows: list[tuple[str, str, str, float]] = []
        t = self.lab.transport
        for name in self.lab.targets:
            out = t.execute(name, "show interfaces")
            if out.ok:
                for r in ios.show_interfaces(out, None):
                    rows += _interface_rows(name, r)
            cpu = t.execute(name, "show processes cpu")
            if cpu.ok and (v := ios.show_processes_cpu(cpu, None)["cpu_5_sec"]) is not None:
                rows.append((name, "system", "cpu-utilization", float(v)))
            mem = t.execute(name, "show memory statistics")
            if mem.ok and (v := ios.show_memory_statistics(mem, None)["used_pct"]) is not None:
                rows.append((name, "system", "memory-utilization", float(v)))
            bgp = t.execute(name, "show ip bgp summary")
            if bgp.ok:
                for s in ios.show_ip_bgp_summary(bgp, None):
                    rows.append(
                        (name, s["neighbor"], "bgp-session-established", float(s["state"] == "Established"))
                    )
        table = _table(rows, self.lab.now())
        if table.num_rows:
            self.lab.polled.append(table)  # read by the view's telemetry_since
        self.samples += 1
        log.info(
            "poll %d: %d telemetry rows from %d devices", self.samples, table.num_rows, len(self.lab.targets)
        )
        return table.num_rows


def _interface_rows(device: str, r: dict[str, Any]) -> list[tuple[str, str, str, float]]:
    name = r["interface"]
    values = {
        "in-errors": r["input_errors"],
        "in-fcs-errors": r["crc"],
        "out-discards": r["output_drops"],
        "late-collisions": r["late_collisions"],
        "oper-status": 1.0 if r["protocol_status"] == "up" else 2.0,
        "admin-status": 2.0 if "administratively" in (r["link_status"] or "") else 1.0,
        "in-utilization": r["input_util_pct"],
        "out-utilization": r["output_util_pct"],
    }
    return [(device, name, metric, float(v)) for metric, v in values.items()]


def _table(rows: list[tuple[str, str, str, float]], stamp: datetime) -> pa.Table:
    cols = list(zip(*rows, strict=True)) if rows else [[], [], [], []]
    return pa.table(
        {
            "ts": pa.array([stamp] * len(rows), pa.timestamp("us")),
            "device": pa.array(cols[0], pa.string()),
            "entity": pa.array(cols[1], pa.string()),
            "metric": pa.array(cols[2], pa.string()),
            "value": pa.array(cols[3], pa.float64()),
        }
    )
