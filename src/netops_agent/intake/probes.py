"""Synthetic reachability probes: what a NOC's ping poller sees.

Some faults are quiet in telemetry (a removed static route, an ACL entry that drops
one customer prefix, a device that stopped answering). Monitoring catches them by
pinging: a host in every inventory prefix, and the loopback of every device (or only
of devices that look unwell in telemetry), each from a vantage device in another
site through the lab's own `execute`, like any poller. A poller sends its pings side
by side (`view.concurrent()`), so the twin charges one command time for
the sweep, not one per ping: otherwise the twin's clock, and the telemetry sampled
as it advances, would grow with targets x devices. The ping command is the tool
registry's for the view's platform (IOS `ping A size 100 repeat N` on the twin,
iputils `ping -c N ... A` on FRR).
A failure is confirmed from a second vantage before it counts. Results go to the
`probe_results` table; `ProbeDetector` turns failures into alerts. For a prefix
that does not answer, the poller also looks the destination up in the vantage's
routing table (`route`: present | absent), as route monitoring would.

A vantage that is itself cut off (its uplinks down) fails every ping it sends: what it
fails to reach says nothing about the target. A vantage is cut off in a round when it
reached nothing while another vantage reached a target it failed. A failure seen only
from cut-off vantages is asked of one more device that answers (edges, then leaves,
then spines: `Inventory.probe_order`) and counts only from a device that
reaches something; where none does, the row keeps the honest 0% with status `cut-off`
and raises no alert (the cut-off vantage is an incident of its own: its loopback and
prefixes fail from the healthy vantages).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from datetime import datetime

import pyarrow as pa

from netops_agent.errors import ConfigError
from netops_agent.intake.config import Probes
from netops_agent.lab.base import NetworkView
from netops_agent.models import Inventory
from netops_agent.store import Store

_IOS = re.compile(r"Success rate is (\d+) percent")
_LINUX = re.compile(r"(\d+) packets transmitted, (\d+) (?:packets )?received")
_LINUX_NO_PATH = re.compile(r"^(?:ping|connect): .*(?:Network is unreachable|No route to host)", re.MULTILINE)
_NO_ROUTE = re.compile(r"not in table|no route|Network not in table", re.IGNORECASE)
_ROUTE = re.compile(r"Routing entry for|^\s*[A-Z*>]+.*\d+\.\d+\.\d+\.\d+/\d+", re.MULTILINE)


@dataclass(frozen=True)
class Target:
    kind: str  # device | prefix
    address: str  # what is pinged
    device: str  # the device that owns it (inventory)
    entity: str  # loopback address or prefix


Seen = list[tuple[Target, list[tuple[str, float]]]]  # per target, each answering vantage's success %


@dataclass
class ProbeRound:
    """One sweep: a row per target in `probe_results`."""

    started: datetime
    rows: list[dict[str, object]] = field(default_factory=list)
    cut_off: set[str] = field(default_factory=set)  # devices that pinged but reached nothing this round

    @property
    def failed(self) -> list[dict[str, object]]:
        return [r for r in self.rows if r["status"] == "failed"]


def targets(inv: Inventory, cfg: Probes, suspects: set[str] | None = None) -> list[Target]:
    """Device loopbacks (all, or only `suspects`) and one host per prefix, in inventory order."""
    out: list[Target] = []
    if cfg.devices:
        out += [
            Target("device", d.loopback, d.name, d.loopback)
            for d in inv.devices
            if (suspects is None or d.name in suspects) and d.loopback  # real gear may list none
        ]
    if cfg.prefixes:
        for device, prefixes in inv.prefixes.items():
            for prefix in prefixes:
                net = ipaddress.IPv4Network(prefix, strict=False)
                host = net.network_address + min(cfg.host_offset, max(net.num_addresses - 2, 0))
                out.append(Target("prefix", str(host), device, str(net)))
    return out


def route_state(text: str) -> str | None:
    """'present' / 'absent' from `show ip route <ip>` output; None if it cannot tell."""
    if _NO_ROUTE.search(text):
        return "absent"
    return "present" if _ROUTE.search(text) else None


def success_pct(text: str) -> float | None:
    """Success rate from IOS or Linux ping output; None if the output is not a ping result."""
    m = _IOS.search(text)
    if m:
        return float(m.group(1))
    m = _LINUX.search(text)
    if m and int(m.group(1)):
        return 100.0 * int(m.group(2)) / int(m.group(1))
    if _LINUX_NO_PATH.search(text):  # nothing could be sent: no route to the destination
        return 0.0
    return None


class Prober:
    """Pings targets from the vantages, skipping vantages that stop answering."""

    def __init__(self, lab: NetworkView, cfg: Probes) -> None:
        from netops_agent.tools.registry import TOOLS

        self.lab = lab
        self.cfg = cfg
        self.dead: set[str] = set()
        tool = TOOLS.get("ping")
        build = tool.build.get(lab.platform)
        if build is None:
            raise ConfigError(f"probes: no ping command for platform {lab.platform!r} in the tool registry")
        self._command = lambda address: build(tool.params(destination=address, count=cfg.count))

    def ping(self, vantage: str, address: str) -> float | None:
        out = self.lab.execute(vantage, self._command(address))
        if not out.reachable:
            self.dead.add(vantage)
            return None
        return success_pct(out.text) if out.ok else None

    def probe(self, target: Target, order: list[str]) -> list[tuple[str, float]]:
        """(vantage, success %) of each vantage that answered, trying them in order until
        one reaches the target (or, with `confirm`, two failed)."""
        seen: list[tuple[str, float]] = []
        for vantage in order:
            if vantage in self.dead or vantage == target.device:
                continue
            pct = self.ping(vantage, target.address)
            if pct is None:
                continue
            seen.append((vantage, pct))
            if pct > 0 or not self.cfg.confirm or len(seen) >= 2:
                break
        return seen

    def route(self, vantage: str, address: str) -> str | None:
        out = self.lab.execute(vantage, f"show ip route {address}")
        return route_state(out.text or out.error) if out.reachable else None


def unwell_devices(store: Store, inv: Inventory, now: datetime) -> set[str]:
    """Devices with a port oper-down in the latest telemetry sample, or facing one."""
    rows = store.query(
        "SELECT DISTINCT device, entity FROM telemetry WHERE metric = 'oper-status' AND value = 2 "
        "AND ts = (SELECT max(ts) FROM telemetry_samples WHERE ts <= ?)",
        [now],
    )
    down = {(r["device"], r["entity"]) for r in rows}
    out = {dev for dev, _ in down}
    for link in inv.links:
        (a, ai), (b, bi) = link.ends()
        if (a, ai) in down:
            out.add(b)
        if (b, bi) in down:
            out.add(a)
    return out


def run_probes(lab: NetworkView, store: Store, cfg: Probes, *, scope: str = "lab") -> ProbeRound:
    """Sweep every target once; write the results to `probe_results`.

    Call it after the lab's telemetry is in the store: with `liveness: suspects` the
    loopbacks pinged are those of devices that look unwell in the latest sample.
    """
    inv = lab.inventory()
    sweep = ProbeRound(lab.now())
    points = inv.vantages()
    if not cfg.enabled or not points:
        return sweep
    suspects = unwell_devices(store, inv, lab.now()) if cfg.liveness == "suspects" else None
    prober = Prober(lab, cfg)
    with lab.concurrent():  # a poller sends its pings side by side
        _sweep(prober, sweep, inv, cfg, suspects, points, lab, scope)
    if sweep.rows:
        store.append_arrow("probe_results", _table(sweep.rows))
    return sweep


def _sweep(
    prober: Prober,
    sweep: ProbeRound,
    inv: Inventory,
    cfg: Probes,
    suspects: set[str] | None,
    points: list[str],
    lab: NetworkView,
    scope: str,
) -> None:
    seen: Seen = []
    for n, target in enumerate(targets(inv, cfg, suspects)):
        k = n % len(points)
        seen.append((target, prober.probe(target, points[k:] + points[:k])))
    reach = _Reach(prober, seen)
    sweep.cut_off = reach.cut_off()
    if sweep.cut_off:
        reach.second_opinions(sweep.cut_off, inv)
    for target, answers in seen:
        pct = max((p for _, p in answers), default=None)
        fair = [v for v, _ in answers if v not in sweep.cut_off]  # vantages whose failure counts
        status = "skipped" if pct is None else "ok" if pct > 0 else "failed" if fair else "cut-off"
        route = (
            prober.route(fair[0], target.address) if status == "failed" and target.kind == "prefix" else None
        )
        sweep.rows.append(
            {
                "ts": lab.now(),
                "scope": scope,
                "vantage": ",".join(v for v, _ in answers),
                "target": target.address,
                "kind": target.kind,
                "device": target.device,
                "entity": target.entity,
                "success_pct": pct,
                "status": status,
                "route": route,
            }
        )


class _Reach:
    """Which devices reach anything in this round. A vantage that reached one of its
    targets does; one that failed a target another vantage reached does not (the
    contrast is in the round already); any other device is asked, once, to ping one
    target that answered in the round (not its own)."""

    def __init__(self, prober: Prober, seen: Seen) -> None:
        self.prober = prober
        self.seen = seen
        self.reference = [t for t, answers in seen if any(p > 0 for _, p in answers)]
        self.known = {v: False for t, answers in seen if any(p > 0 for _, p in answers) for v, p in answers}
        self.known.update({v: True for _, answers in seen for v, p in answers if p > 0})

    def __call__(self, device: str) -> bool:
        if device not in self.known:
            ref = next((t for t in self.reference if t.device != device), None)
            self.known[device] = ref is not None and bool(self.prober.ping(device, ref.address))
        return self.known[device]

    def cut_off(self) -> set[str]:
        """Vantages that reached none of their targets in the round and fail a target
        that another vantage reached: their failures are about themselves. Where nothing
        answered at all there is no contrast, and no vantage is cut off."""
        if not self.reference:
            return set()
        failing = {v for _, answers in self.seen for v, p in answers if p == 0}
        return {v for v in sorted(failing) if not self(v)}

    def second_opinions(self, cut: set[str], inv: Inventory) -> None:
        """Ask each failure seen only from cut-off vantages of one more device that
        answers, in `Inventory.probe_order` (edges, leaves, spines); its failure counts
        only if the device reaches something in the round (else it is cut off too: added
        to `cut`, and the next is asked). Every device asked is named in the row."""
        order = [d.name for d in inv.probe_order()]
        for target, answers in self.seen:
            if not answers or any(v not in cut for v, _ in answers):
                continue
            for device in order:
                if device in cut or device in self.prober.dead or device == target.device:
                    continue
                pct = self.prober.ping(device, target.address)
                if pct is None:
                    continue
                answers.append((device, pct))
                if pct > 0 or self(device):
                    self.known[device] = True
                    break
                cut.add(device)


def _table(rows: list[dict[str, object]]) -> pa.Table:
    cols = ["ts", "scope", "vantage", "target", "kind", "device", "entity", "success_pct", "status", "route"]
    data = {c: [r[c] for r in rows] for c in cols}
    return pa.table(
        {
            **{c: pa.array(data[c], pa.string()) for c in cols if c not in ("ts", "success_pct")},
            "ts": pa.array(data["ts"], pa.timestamp("us")),
            "success_pct": pa.array(data["success_pct"], pa.float64()),
        }
    ).select(cols)
