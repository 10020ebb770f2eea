"""Real faults in the FRR lab, and the ground truth behind them.

`FrrFaultInjector` is the FRR backend's `FaultInjector`: it picks or checks a target
the way the twin does (same target dictionaries, same `F<n>` ids, severities from the
catalog), lets the fault type change the real network (see `fault_kinds.py`) and keeps
the injected faults in the lab's state file, so another process that attaches to the
lab (the next CLI call, the harness) sees them. Only the scenario loader, the lab CLI,
the evaluation harness and benchmarks use this module; the agent never does.
"""

from __future__ import annotations

import random
from typing import Any

from netops_agent.catalog import fault_type
from netops_agent.errors import FaultTargetError, UnknownFaultError
from netops_agent.lab.frr.fault_kinds import KINDS, Change, Ctx
from netops_agent.lab.frr.lab import FrrLab
from netops_agent.lab.frr.topology import CUSTOMER_IF, static_routes
from netops_agent.models import FaultSpec, InjectedFault, Link

Target = dict[str, Any]


class FrrFaultInjector:
    """FaultInjector for an FrrLab; injected faults are kept in the lab's state file."""

    SUPPORTED: tuple[str, ...] = tuple(KINDS)

    def __init__(self, lab: FrrLab) -> None:
        self.lab = lab

    def injected(self) -> list[InjectedFault]:
        return list(self.lab.reloaded().faults)

    def inject(self, spec: FaultSpec, seed: int = 0) -> InjectedFault:
        if spec.type not in KINDS:
            raise UnknownFaultError(
                f"fault {spec.type!r} cannot be injected on the FRR backend; supported: "
                f"{', '.join(KINDS)} (the twin backend supports the whole catalog)"
            )
        ft = fault_type(spec.type)
        seq = self.lab.reloaded().fault_seq + 1
        rng = random.Random(f"{seed}-{spec.type}-{seq}")
        target = (
            self._pick(ft.target, spec.type, rng)
            if spec.target == "auto"
            else self._check(ft.target, spec.type, dict(spec.target))
        )
        fault_id = f"F{seq}"
        params = KINDS[spec.type].inject(Ctx(self.lab, target, {}, fault_id))
        fault = InjectedFault(id=fault_id, type=spec.type, target=target, params=params)
        state = self.lab.reloaded()  # the injection itself saved state (cuts, helpers, ACLs)
        state.fault_seq = max(state.fault_seq, seq)
        state.faults.append(fault)
        self.lab.save()
        return fault

    def fault_present(self, fault: InjectedFault) -> bool:
        return KINDS[fault.type].present(self._ctx(fault))

    def reference_fix(self, fault: InjectedFault) -> list[Change]:
        """The catalog's correct remote action as (device, config lines); [] if there is none."""
        return KINDS[fault.type].fix(self._ctx(fault))

    def repair(self, fault: InjectedFault) -> None:
        """Undo a fault as a field engineer would (harness cleanup, escalated faults)."""
        KINDS[fault.type].repair(self._ctx(fault))
        state = self.lab.reloaded()
        state.faults = [f for f in state.faults if f.id != fault.id]
        self.lab.save()

    def _ctx(self, fault: InjectedFault) -> Ctx:
        return Ctx(self.lab, fault.target, fault.params, fault.id)

    # --- targets -------------------------------------------------------------------------
    def _busy(self) -> set[str]:
        """Devices already involved in a fault (and their non-spine peers) are not reused."""
        role = {d.name: d.role for d in self.lab.inventory().devices}
        out: set[str] = set()
        for f in self.lab.state.faults:
            out.add(f.target["device"])
            peer = f.target.get("peer_device")
            if peer and role.get(peer) != "spine":
                out.add(peer)
        return out

    def _pick(self, kind: str, slug: str, rng: random.Random) -> Target:
        inv, busy = self.lab.inventory(), self._busy()
        free = [d for d in inv.devices if d.name not in busy and d.role != "spine"]
        if kind == "device":
            cands = [d.name for d in free if static_routes(inv, d.name)]
            if not cands:
                raise FaultTargetError(f"{slug}: no free device with a static route left")
            return {"device": rng.choice(sorted(cands))}
        if slug == "acl_blocking":
            cands = [d.name for d in free if inv.interface(d.name, CUSTOMER_IF) is not None]
            if not cands:
                raise FaultTargetError("acl_blocking: no free leaf left")
            return {"device": rng.choice(sorted(cands)), "interface": CUSTOMER_IF}
        role = {d.name: d.role for d in inv.devices}
        links = [
            link
            for link in inv.links
            if link.a_device not in busy
            and link.b_device not in busy
            and (role[link.a_device] == "spine") != (role[link.b_device] == "spine")
        ]
        if not links:
            raise FaultTargetError(f"{slug}: no free link left")
        link = rng.choice(links)
        target = _link_target(link, link.b_device if role[link.a_device] == "spine" else link.a_device)
        return self._session_target(target) if kind == "bgp_session" else target

    def _session_target(self, t: Target) -> Target:
        inv = self.lab.inventory()
        s = next(s for s in inv.bgp_sessions if s.device == t["device"] and s.peer_device == t["peer_device"])
        return {
            "device": s.device,
            "peer": s.peer_ip,
            "peer_device": s.peer_device,
            "interface": t["interface"],
        }

    def _check(self, kind: str, slug: str, target: Target) -> Target:
        """Validate an explicit target and fill in what follows from the inventory."""
        inv = self.lab.inventory()
        dev = target.get("device")
        if not dev:
            raise FaultTargetError(f"{slug}: target needs a 'device' (got {target})")
        inv.device(str(dev))
        if kind == "device":
            if not static_routes(inv, dev):
                raise FaultTargetError(f"{slug}: {dev} has no static route to remove (try an edge router)")
            return {"device": dev}
        if kind == "bgp_session":
            s = inv.session(dev, str(target.get("peer")))
            if s is None:
                known = ", ".join(x.peer_ip for x in inv.bgp_sessions if x.device == dev)
                raise FaultTargetError(
                    f"{slug}: {dev} has no BGP neighbour {target.get('peer')}; its neighbours: {known}"
                )
            link = next(lk for lk in inv.links if lk.id == s.link_id)
            return self._session_target(_link_target(link, dev))
        itf = inv.interface(dev, str(target.get("interface")))
        if itf is None:
            known = ", ".join(i.name for i in inv.interfaces if i.device == dev)
            raise FaultTargetError(
                f"{slug}: {dev} has no interface {target.get('interface')}; interfaces: {known}"
            )
        if slug == "acl_blocking":
            if itf.name != CUSTOMER_IF:
                raise FaultTargetError(
                    f"acl_blocking needs a leaf's customer port {CUSTOMER_IF}, not {itf.name}"
                )
            return {"device": dev, "interface": itf.name}
        link = inv.link_of(dev, itf.name)
        if link is None:
            raise FaultTargetError(f"{slug}: {dev} {itf.name} is not cabled to another device")
        return _link_target(link, dev)


def _link_target(link: Link, device: str) -> Target:
    """A link fault's target, with the named end as 'device' (as in the twin)."""
    peer_device, peer_interface = link.peer_of(device)
    interface = link.a_interface if link.a_device == device else link.b_interface
    return {
        "device": device,
        "interface": interface,
        "peer_device": peer_device,
        "peer_interface": peer_interface,
        "link": link.id,
    }
