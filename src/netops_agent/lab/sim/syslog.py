"""Syslog for the twin: Cisco-format messages derived from state changes.

`diff_events` compares two derived states and yields what a router would log:
link and line-protocol changes, OSPF adjacency changes, BGP adjacency changes and
notifications. Messages carry the twin's clock, so `show logging` and the `events`
table tell one story.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from netops_agent.lab.sim.state import Derived
from netops_agent.models import Inventory


@dataclass(frozen=True)
class LogEvent:
    ts: datetime
    device: str
    facility: str
    severity: int
    mnemonic: str
    message: str

    @property
    def tag(self) -> str:
        return f"%{self.facility}-{self.severity}-{self.mnemonic}"

    def line(self) -> str:
        stamp = self.ts.strftime("%b %d %H:%M:%S.") + f"{self.ts.microsecond // 1000:03d}"
        return f"*{stamp}: {self.tag}: {self.message}"


def make(ts: datetime, device: str, tag: str, message: str) -> LogEvent:
    facility, severity, mnemonic = tag.lstrip("%").split("-", 2)
    return LogEvent(ts, device, facility, int(severity), mnemonic, message)


def diff_events(
    inv: Inventory, before: Derived, after: Derived, ts: datetime, down: set[str]
) -> Iterator[LogEvent]:
    """What routers log when the derived state moves from `before` to `after`."""
    for (dev, name), new in after.iface.items():
        old = before.iface.get((dev, name))
        if dev in down or old is None or old == new:
            continue
        if old.oper_up != new.oper_up or old.admin_up != new.admin_up:
            if not new.admin_up:
                yield make(
                    ts, dev, "%LINK-5-CHANGED", f"Interface {name}, changed state to administratively down"
                )
            elif old.oper_up != new.oper_up:
                word = "up" if new.oper_up else "down"
                yield make(ts, dev, "%LINK-3-UPDOWN", f"Interface {name}, changed state to {word}")
            if old.oper_up != new.oper_up:
                word = "up" if new.oper_up else "down"
                yield make(
                    ts,
                    dev,
                    "%LINEPROTO-5-UPDOWN",
                    f"Line protocol on Interface {name}, changed state to {word}",
                )
    yield from _ospf_events(inv, before, after, ts, down)
    yield from _bgp_events(inv, before, after, ts, down)


def _ospf_events(
    inv: Inventory, before: Derived, after: Derived, ts: datetime, down: set[str]
) -> Iterator[LogEvent]:
    rid = {d.name: d.router_id for d in inv.devices}
    peer = {}
    for link in inv.links:
        (ad, ai), (bd, bi) = link.ends()
        peer[(ad, ai)], peer[(bd, bi)] = bd, ad
    for k in sorted(set(before.ospf) | set(after.ospf)):
        old, new = before.ospf.get(k, "DOWN"), after.ospf.get(k, "DOWN")
        dev, name = k
        if old == new or dev in down or k not in peer:
            continue
        nbr = rid[peer[k]]
        if new == "FULL":
            reason = "Loading Done"
        elif not after.iface[k].oper_up:
            reason = "Neighbor Down: Interface down or detached"
        elif new == "EXSTART":
            reason = "Neighbor Down: Too many retransmissions"
        else:
            reason = "Neighbor Down: Dead timer expired"
        yield make(ts, dev, "%OSPF-5-ADJCHG", f"Process 1, Nbr {nbr} on {name} from {old} to {new}, {reason}")


def _bgp_events(
    inv: Inventory, before: Derived, after: Derived, ts: datetime, down: set[str]
) -> Iterator[LogEvent]:
    peer_as = {(s.device, s.peer_ip): s.remote_as for s in inv.bgp_sessions}
    for k in sorted(set(before.bgp) | set(after.bgp)):
        dev, ip = k
        if dev in down:
            continue
        old, new = before.bgp.get(k), after.bgp.get(k)
        was_up = old is not None and old.state == "Established"
        is_up = new is not None and new.state == "Established"
        if new is not None and new.notification and (old is None or old.notification != new.notification):
            yield from _notification(ts, dev, ip, new.notification, new.prefixes, peer_as.get(k))
        if was_up and not is_up:
            reason = _down_reason(new.state if new else "Idle", after, dev)
            yield make(ts, dev, "%BGP-5-ADJCHANGE", f"neighbor {ip} Down {reason}")
        elif is_up and not was_up:
            yield make(ts, dev, "%BGP-5-ADJCHANGE", f"neighbor {ip} Up")


def _down_reason(state: str, after: Derived, dev: str) -> str:
    if state == "Idle (Admin)":
        return "Admin. shutdown"
    if state == "Idle (PfxCt)":
        return "Maximum-prefix limit reached"
    return "Interface flap" if state == "Active" else "BGP Notification received"


def _notification(
    ts: datetime, dev: str, ip: str, kind: str, prefixes: int, remote_as: int | None
) -> Iterator[LogEvent]:
    if kind == "bad_as_sent":
        yield make(
            ts,
            dev,
            "%BGP-3-NOTIFICATION",
            f"sent to neighbor {ip} active 2/2 (peer in wrong AS) 2 bytes {remote_as or 0:04X}",
        )
    elif kind == "bad_as_received":
        yield make(
            ts,
            dev,
            "%BGP-3-NOTIFICATION",
            f"received from neighbor {ip} active 2/2 (peer in wrong AS) 2 bytes",
        )
    elif kind == "maxpfx":
        yield make(
            ts,
            dev,
            "%BGP-3-MAXPFXEXCEED",
            f"Number of prefixes received from {ip} (afi 0) reaches {prefixes or 0}, max limit exceeded",
        )
        yield make(
            ts,
            dev,
            "%BGP-3-NOTIFICATION",
            f"sent to neighbor {ip} 6/1 (Maximum Number of Prefixes Reached) 7 bytes",
        )
