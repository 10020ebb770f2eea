"""Topology-aware correlation: active alerts in, incident drafts with ranked suspects out.

Every alert is placed on the topology from the inventory (the source of truth):
- an interface or OSPF alert on a cabled port belongs to that cable (both ends meet);
- a BGP alert belongs to the cable its session rides;
- a device alert (CPU, memory, no answer) belongs to the device, and so do alerts on
  its own uncabled interfaces (SVIs, loopbacks) and on prefixes it originates;
- when a device does not answer at all (a probe says so, or every neighbour sees its
  facing port down), everything on it or facing it (its cables, the sessions to it,
  its prefixes) joins the device.
A silent device is one incident either way, but its suspects tell two cases apart
from what the device itself still reports: a device cut off by its links reports
those ports down while others of its own (its loopback, SVIs) are not, so its cables
are the suspects (the device stays among the first three); a device that reports
nothing, or every one of its interfaces down, failed itself and is the suspect.
Alerts on one place that are further apart in time than the window are separate
incidents. Weak alerts (below `seed_severity`) and context alerts (a configuration
change) never open an incident; a context alert joins the incident on its device.

Each incident ranks its suspected origins (symptoms are folded under the cause, not
listed as suspects), takes the worst alert severity, and gets a title and summary
built from its symptoms. Wording never names a root-cause fault type.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from netops_agent.intake.alerts import place, word
from netops_agent.intake.config import DetectionConfig, severity_rank
from netops_agent.models import Incident, Interface, Inventory, Link, Severity, Suspect

Key = tuple[str, ...]
End = tuple[str, str]
Alert = dict[str, Any]


class Topology:
    """Lookups from the inventory: cables by end, sessions, prefix owners, device cables."""

    def __init__(self, inv: Inventory) -> None:
        self.inv = inv
        self.link_by_id = {lk.id: lk for lk in inv.links}
        self.link_by_end: dict[End, Link] = {}
        self.links_of: dict[str, list[Link]] = defaultdict(list)
        for lk in inv.links:
            for end in lk.ends():
                self.link_by_end[end] = lk
                self.links_of[end[0]].append(lk)
        self.sessions = {(s.device, s.peer_ip): s for s in inv.bgp_sessions}
        self.role = {d.name: d.role for d in inv.devices}
        self.site = {d.name: d.site for d in inv.devices}
        # The subnets of a device's addressed, non-loopback interfaces (customer SVIs
        # among them), for `prefix_interface`: worked out on first use, per device. Only
        # devices with a prefix alert need them (an `IPv4Interface` for each of a large
        # inventory's ~19,000 interfaces cost ~0.15 s a pass).
        self._addressed: dict[str, list[Interface]] | None = None
        self._subnets: dict[str, list[tuple[str, ipaddress.IPv4Network]]] = {}
        self._facing: dict[End, list[str]] | None = None
        self._names: dict[str, set[str]] | None = None

    def facing(self, end: End) -> list[str]:
        """The devices one of whose cables has `end` at its other end (`Link.peer_of`)."""
        if self._facing is None:
            self._facing = defaultdict(list)
            for dev, links in self.links_of.items():
                for lk in links:
                    self._facing[lk.peer_of(dev)].append(dev)
        return self._facing.get(end, [])

    def interface_names(self, device: str) -> set[str]:
        """Every interface the inventory lists on a device (worked out on first use)."""
        if self._names is None:
            self._names = defaultdict(set)
            for i in self.inv.interfaces:
                self._names[i.device].add(i.name)
        return self._names.get(device, set())

    def ip_of(self, end: End | None) -> str | None:
        """An interface's address (None if unknown); the inventory's own index answers."""
        itf = self.inv.interface(*end) if end else None
        return itf.ip if itf else None

    def description(self, end: End) -> str | None:
        itf = self.inv.interface(*end)
        return itf.description if itf else None

    def session_end(self, device: str, peer_ip: str) -> End | None:
        """The local end of the cable a BGP session rides."""
        s = self.sessions.get((device, peer_ip))
        if s is None:
            return None
        lk = self.link_by_id[s.link_id]
        return (lk.a_device, lk.a_interface) if lk.a_device == device else (lk.b_device, lk.b_interface)

    def prefix_interface(self, device: str, prefix: str) -> str | None:
        """The device's interface whose subnet is the prefix (customer SVI), if any."""
        try:
            net = ipaddress.IPv4Network(prefix, strict=False)
        except ValueError:
            return None
        return next((name for name, sub in self.subnets(device) if sub == net), None)

    def subnets(self, device: str) -> list[tuple[str, ipaddress.IPv4Network]]:
        """(interface, subnet) of the device's addressed non-loopback interfaces, in
        inventory order (worked out once per device)."""
        subs = self._subnets.get(device)
        if subs is None:
            if self._addressed is None:
                self._addressed = defaultdict(list)
                for i in self.inv.interfaces:
                    if i.ip and i.prefixlen and i.kind != "loopback":
                        self._addressed[i.device].append(i)
            subs = self._subnets[device] = [
                (i.name, ipaddress.IPv4Interface(f"{i.ip}/{i.prefixlen}").network)
                for i in self._addressed.get(device, ())
            ]
        return subs

    def key(self, a: Alert) -> Key | None:
        """Where an alert sits: ('link', id) | ('iface', device, name) | ('device', name)."""
        kind, dev, ent = a["kind"], a["device"], a["entity"]
        if kind in ("interface", "ospf"):
            lk = self.link_by_end.get((dev, ent))
            return ("link", lk.id) if lk else ("iface", dev, ent)
        if kind == "bgp":
            end = self.session_end(dev, ent)
            return ("link", self.link_by_end[end].id) if end else ("device", dev)
        if kind == "prefix":
            itf = self.prefix_interface(dev, ent)
            return ("iface", dev, itf) if itf else ("device", dev)
        if kind == "device":
            return ("device", dev)
        return None  # context (config) alerts are attached later

    def end_of(self, a: Alert, link: Link) -> End | None:
        """Which end of `link` an alert speaks about (device-wide alerts: the device's end)."""
        dev, ent = a["device"], a["entity"]
        ends = link.ends()
        if a["kind"] in ("interface", "ospf") and (dev, ent) in ends:
            return dev, ent
        if a["kind"] == "bgp":
            end = self.session_end(dev, ent)
            return end if end in ends else None
        return next((e for e in ends if e[0] == dev), None)


class _Groups:
    """Union-find over place keys."""

    def __init__(self) -> None:
        self.parent: dict[Key, Key] = {}

    def find(self, k: Key) -> Key:
        self.parent.setdefault(k, k)
        while self.parent[k] != k:
            self.parent[k] = self.parent[self.parent[k]]
            k = self.parent[k]
        return k

    def union(self, a: Key, b: Key) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


@dataclass
class Draft:
    """An incident before the runner numbers it: its alerts, suspects and wording."""

    alerts: list[Alert]
    context: list[Alert] = field(default_factory=list)
    suspects: list[Suspect] = field(default_factory=list)
    # Where the incident is when that is not its first suspect: a device cut off by its
    # links is the incident (the agent works it as the device), its cables the suspects.
    anchor: Suspect | None = None
    prefix: str | None = None
    title: str = ""
    summary: str = ""
    severity: Severity = Severity.medium

    @property
    def first_seen(self) -> datetime:
        return min(a["first_seen"] for a in self.alerts)

    @property
    def alert_ids(self) -> list[str]:
        return [a["id"] for a in self.alerts + self.context]

    def incident(self, incident_id: str, opened_at: datetime) -> Incident:
        top = self.anchor or self.suspects[0]
        return Incident(
            id=incident_id,
            title=self.title,
            summary=self.summary,
            severity=self.severity,
            device=top.device,
            interface=top.interface,
            peer=top.peer,
            prefix=self.prefix,
            suspects=self.suspects,
            alerts=len(self.alert_ids),
            opened_at=opened_at.isoformat(),
        )


class Correlator:
    def __init__(self, inv: Inventory, config: DetectionConfig) -> None:
        self.topo = Topology(inv)
        self.cfg = config
        self.corr = config.correlation

    # --- grouping --------------------------------------------------------------------------
    def correlate(self, alerts: list[Alert]) -> list[Draft]:
        """Group alerts into drafts, ranked and worded, oldest first."""
        context = [
            a for a in alerts if a["check_name"] in self.corr.context_checks or self.topo.key(a) is None
        ]
        context_ids = {a["id"] for a in context}
        placed = [a for a in alerts if a["id"] not in context_ids]
        drafts = [d for d in self._split(placed) if self._seeds(d)]
        self._attach(drafts, context)
        for d in drafts:
            self._rank(d)
            self._word(d)
        return sorted(drafts, key=lambda d: (d.first_seen, d.suspects[0].device))

    def _components(self, alerts: list[Alert]) -> dict[Key, list[Alert]]:
        groups = _Groups()
        keys = [self.topo.key(a) for a in alerts]
        for k in keys:
            groups.find(k)  # type: ignore[arg-type]
        down = self._silent(alerts)
        present = set(groups.parent)
        for dev in down:
            for lk in self.topo.links_of.get(dev, []):
                groups.union(("device", dev), ("link", lk.id))
        for k in present:  # a device and its own (uncabled) interfaces
            if k[0] == "iface" and (("device", k[1]) in present or k[1] in down):
                groups.union(("device", k[1]), k)
        out: dict[Key, list[Alert]] = defaultdict(list)
        for a, k in zip(alerts, keys, strict=True):
            out[groups.find(k)].append(a)  # type: ignore[arg-type]
        return out

    def _silent(self, alerts: list[Alert]) -> set[str]:
        """Devices that are gone: a probe says so, or every neighbour (2 or more) sees its
        facing port down."""
        down = {a["device"] for a in alerts if a["check_name"] in self.corr.device_down_checks}
        port_down = {
            (a["device"], a["entity"])
            for a in alerts
            if a["kind"] == "interface" and a["check_name"] in self.corr.port_down_checks
        }
        # Only a device facing a port that is down can have every neighbour see it down.
        for dev in {dev for end in port_down for dev in self.topo.facing(end)}:
            links = self.topo.links_of[dev]
            if len(links) >= 2 and all(lk.peer_of(dev) in port_down for lk in links):
                down.add(dev)
        return down

    def _split(self, alerts: list[Alert]) -> list[Draft]:
        """Within each place, alerts further apart than the window are separate incidents."""
        window = self.corr.window_s
        drafts = []
        for members in self._components(alerts).values():
            members.sort(key=lambda a: (a["first_seen"], a["id"]))
            current: list[Alert] = []
            horizon: datetime | None = None
            for a in members:
                if horizon is not None and (a["first_seen"] - horizon).total_seconds() > window:
                    drafts.append(Draft(current))
                    current = []
                current.append(a)
                horizon = a["last_seen"] if horizon is None else max(horizon, a["last_seen"])
            drafts.append(Draft(current))
        return drafts

    def _seeds(self, d: Draft) -> bool:
        floor = severity_rank(self.corr.seed_severity)
        return any(severity_rank(a["severity"]) >= floor for a in d.alerts)

    def _attach(self, drafts: list[Draft], context: list[Alert]) -> None:
        """A context alert joins the incident on its device that started soonest after it."""
        for c in context:
            best: tuple[float, Draft] | None = None
            for d in drafts:
                if c["device"] not in {a["device"] for a in d.alerts}:
                    continue
                gap = (d.first_seen - c["first_seen"]).total_seconds()
                if -self.corr.window_s <= gap <= self.corr.context_window_s and (
                    best is None or abs(gap) < best[0]
                ):
                    best = (abs(gap), d)
            if best is not None:
                best[1].context.append(c)

    # --- ranking ---------------------------------------------------------------------------
    def _weight(self, a: Alert) -> float:
        return self.corr.cause_weights.get(a["check_name"], 0.0)

    def _rank(self, d: Draft) -> None:
        down = sorted(self._silent(d.alerts))
        prefixes = [a["entity"] for a in d.alerts if a["kind"] == "prefix"]
        d.prefix = prefixes[0] if prefixes else None
        by_key: dict[Key, list[Alert]] = defaultdict(list)
        for a in d.alerts:
            by_key[self.topo.key(a)].append(a)  # type: ignore[index]
        if down:
            d.suspects = [s for dev in down for s in self._silent_suspects(dev, d, by_key)][:5]
            if d.suspects[0].kind != "device":
                d.anchor = Suspect(kind="device", device=down[0])
            return
        candidates: list[tuple[float, list[Suspect]]] = []
        for k, members in by_key.items():
            mass = self._mass(members)
            if k[0] == "link":
                candidates.append((mass, self._link_suspects(self.topo.link_by_id[k[1]], members, d.context)))
            elif k[0] == "iface":
                candidates.append((mass, [Suspect(kind="interface", device=k[1], interface=k[2])]))
            else:
                candidates.append((mass, [Suspect(kind="device", device=k[1])]))
        candidates.sort(key=lambda c: -c[0])
        top = candidates[0][0]
        ranked: list[Suspect] = []
        for mass, sus in candidates:
            for s in sus:
                ranked.append(s.model_copy(update={"score": round(s.score * mass / top, 3)}))
        d.suspects = ranked[:5]

    def _mass(self, alerts: list[Alert]) -> float:
        return sum(1 + severity_rank(a["severity"]) + self._weight(a) for a in alerts)

    def _silent_suspects(self, dev: str, d: Draft, by_key: dict[Key, list[Alert]]) -> list[Suspect]:
        """A silent device's suspects: the cables whose end on the device the device itself
        reports down, when it still reports some interface of its own that is not (it is
        alive, cut off by those links); else the device (it reports nothing, or every one
        of its interfaces down: it failed itself).

        Each cable is named at the end with the more cause evidence (`link` when both ends
        are seen down), heaviest cable first. The device stays among the first three:
        the re-observations after a fix read an incident's first three suspects, and only
        the device's own reading covers every one of its links."""
        cables = self._cut_off_by(dev, d.alerts)
        device = Suspect(kind="device", device=dev)
        if not cables:
            return [device]
        ranked = sorted(
            ((self._mass(by_key.get(("link", lk.id), [])), lk) for lk in cables), key=lambda c: -c[0]
        )
        top = ranked[0][0] or 1.0
        out = [
            self._link_suspects(lk, by_key.get(("link", lk.id), []), d.context)[0].model_copy(
                update={"score": round(mass / top, 3)}
            )
            for mass, lk in ranked
        ]
        at = min(len(out), 2)
        out.insert(at, device.model_copy(update={"score": out[at - 1].score}))
        return out

    def _cut_off_by(self, dev: str, alerts: list[Alert]) -> list[Link]:
        """The device's cables whose end on it the device itself reports down; none when
        it reports every one of its interfaces down (nothing of it is up: it failed)."""
        own = {
            a["entity"]
            for a in alerts
            if a["device"] == dev
            and a["kind"] == "interface"
            and a["check_name"] in self.corr.port_down_checks
        }
        if not own or own >= self.topo.interface_names(dev):
            return []
        return [
            lk
            for lk in self.topo.links_of.get(dev, [])
            if (lk.a_interface if lk.a_device == dev else lk.b_interface) in own
        ]

    def _link_suspects(self, link: Link, alerts: list[Alert], context: list[Alert]) -> list[Suspect]:
        """Rank the two ends of a cable; the end with cause evidence first, the leaf side on ties."""
        ends = list(link.ends())
        score = dict.fromkeys(ends, 0.0)
        count = dict.fromkeys(ends, 0)
        iface_ends: set[End] = set()
        kinds = {a["kind"] for a in alerts}
        for a in alerts + [c for c in context if c["device"] in (link.a_device, link.b_device)]:
            end = self.topo.end_of(a, link)
            if end is None:
                continue
            score[end] += self._weight(a)
            count[end] += 1
            if a["kind"] == "interface":
                iface_ends.add(end)
        best = max(ends, key=lambda e: (score[e], count[e], e == ends[0]))
        other = ends[1] if best == ends[0] else ends[0]
        if iface_ends:
            kind = "link" if len(iface_ends) == 2 else "interface"
        else:
            kind = "ospf_adjacency" if "ospf" in kinds else "bgp_session"
        peer_ip, local_ip = self.topo.ip_of(other), self.topo.ip_of(best)
        bgp = kind == "bgp_session"
        second = max(0.1, (score[other] + count[other]) / max(score[best] + count[best], 1.0))
        return [
            Suspect(kind=kind, device=best[0], interface=best[1], peer=peer_ip if bgp else None),
            Suspect(
                kind=kind if bgp or kind == "ospf_adjacency" else "interface",
                device=other[0],
                interface=other[1],
                peer=local_ip if bgp else None,
                score=round(min(second, 0.9), 3),
            ),
        ]

    # --- severity ---------------------------------------------------------------------------
    def _impact(self, d: Draft, base: Severity) -> Severity:
        """The worst alert's severity, raised by what the incident hits and how wide it is."""
        rules = self.corr.impact
        inv = self.topo.inv
        devices = {a["device"] for a in d.alerts}
        floors = [base]
        for dev in devices:
            tier = inv.criticality(dev)
            if tier in rules.criticality:
                floors.append(Severity(rules.criticality[tier]))  # type: ignore[index]
            role = self.topo.role.get(dev)
            if role in rules.roles:
                floors.append(Severity(rules.roles[role]))
        sites = {self.topo.site.get(dev) for dev in devices} - {None}
        if (rules.devices and len(devices) >= rules.devices) or (rules.sites and len(sites) >= rules.sites):
            floors.append(Severity(rules.wide))
        if rules.prefix_unreachable and any(a["kind"] == "prefix" for a in d.alerts):
            floors.append(Severity(rules.prefix_unreachable))
        return max(floors, key=lambda s: s.rank)

    # --- wording ---------------------------------------------------------------------------
    def _word(self, d: Draft) -> None:
        """Severity from the worst alert; title from the headline alert; summary per check."""
        top = d.anchor or d.suspects[0]  # where the incident is: its title and headline
        worst = max(d.alerts, key=lambda a: severity_rank(a["severity"]))
        d.severity = self._impact(d, Severity(self.corr.severity_map[worst["severity"]]))

        def order(a: Alert) -> tuple[float, ...]:
            at_top = a["device"] == top.device and a["entity"] in (
                top.interface,
                top.peer,
                "system",
                d.prefix,
            )
            return (
                -severity_rank(a["severity"]),
                -self._weight(a),
                -float(at_top),
                a["first_seen"].timestamp(),
            )

        by_check: dict[str, list[Alert]] = {}
        for a in sorted(d.alerts, key=order) + sorted(d.context, key=lambda a: a["first_seen"]):
            by_check.setdefault(a["check_name"], []).append(a)
        head = next(iter(by_check.values()))[0]
        d.title = self._title(top, head, by_check[head["check_name"]])
        phrases = [
            word(self.cfg.rule(check), members[0], self.cfg, where=self._places(members))
            for check, members in by_check.items()
        ]
        if top.kind == "device" and top.device in self._silent(d.alerts):
            phrases.insert(1, self._neighbours_down(top.device, d.alerts))
        shown = phrases[: self.corr.max_symptoms]
        more = len(phrases) - len(shown)
        devices = sorted({a["device"] for a in d.alerts})
        text = "; ".join(shown) + (f"; and {more} more symptom(s)" if more > 0 else "")
        d.summary = (
            f"{text[:1].upper()}{text[1:]}. {len(d.alert_ids)} alert(s) on {len(devices)} "
            f"device(s) since {d.first_seen:%H:%M:%S} UTC. "
            f"Most likely origin: {self._origins(d)}."
        )

    def _origins(self, d: Draft) -> str:
        """The first suspect in words; a device cut off by its links: each of those links."""
        if d.anchor is None:
            return describe(d.suspects[0], self.topo)
        dev = d.anchor.device
        named = [describe(s, self.topo) for s in d.suspects if s.kind != "device"][:3]
        more = len(self._cut_off_by(dev, d.alerts)) - len(named)
        return (
            f"the links {dev} reports down: " + ", ".join(named) + (f" and {more} more" if more > 0 else "")
        )

    def _title(self, top: Suspect, head: Alert, same_check: list[Alert]) -> str:
        rule = self.cfg.rule(head["check_name"])
        if rule is None or not rule.title:
            return head.get("message") or head["check_name"]
        link = self.topo.link_by_end.get((top.device, top.interface or ""))
        if rule.title_both and link is not None:
            ends = {self.topo.end_of(a, link) for a in same_check if self.topo.key(a) == ("link", link.id)}
            if len(ends - {None}) == 2:
                a, b = (top.device, top.interface), link.peer_of(top.device)
                return word(
                    rule, head, self.cfg, template=rule.title_both, a=f"{a[0]} {a[1]}", b=f"{b[0]} {b[1]}"
                )
        return word(rule, head, self.cfg, template=rule.title)

    def _places(self, alerts: list[Alert], limit: int = 4) -> str:
        """Where a check fired, in words; a prefix names the interface it sits behind."""
        names = []
        for a in alerts:
            text = place(a)
            itf = self.topo.prefix_interface(a["device"], a["entity"]) if a["kind"] == "prefix" else None
            if itf:
                desc = self.topo.description((a["device"], itf))
                text = f"{a['entity']} behind {a['device']} {itf}" + (f" ({desc})" if desc else "")
            names.append(text)
        names = list(dict.fromkeys(names))
        shown = ", ".join(names[:limit])
        return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")

    def _neighbours_down(self, device: str, alerts: list[Alert]) -> str:
        """How many cable neighbours of a silent device see their facing port down."""
        links = self.topo.links_of.get(device, [])
        facing = {lk.peer_of(device) for lk in links}
        seen = {(a["device"], a["entity"]) for a in alerts if a["kind"] == "interface"}
        return (
            f"{len(facing & seen)} of {len(facing)} neighbours report their facing links down, "
            "their BGP and OSPF neighbours lost"
        )


def describe(s: Suspect, topo: Topology) -> str:
    """A suspect in words (where, not why)."""
    where = f"{s.device} {s.interface}" if s.interface else s.device
    if s.kind == "link" and s.interface:
        lk = topo.link_by_end.get((s.device, s.interface))
        if lk is not None:
            pdev, pif = lk.peer_of(s.device)
            return f"the cable {where} <-> {pdev} {pif}"
    if s.kind == "bgp_session":
        return f"the BGP session {s.device} -> {s.peer}"
    if s.kind == "ospf_adjacency":
        return f"the OSPF adjacency on {where}"
    if s.kind == "interface":
        return f"interface {where}"
    return f"device {s.device}"
