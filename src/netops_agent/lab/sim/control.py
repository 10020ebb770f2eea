"""The twin's two faces: `SimControl` (pipeline and harness) and the sealed `NetworkView`.

`SimControl(lab).view()` hands out a `NetworkView` whose callables are closures over
the twin: the view has no attribute that is the `SimLab`, its faults or its state.
Commands go through an in-process `CallTransport` (replace it with
`view.with_transport(...)`).
"""

from __future__ import annotations

from datetime import datetime

from netops_agent.lab.base import CallTransport, CommandOutput, NetworkView, apply_criticality
from netops_agent.lab.sim.faults import SimFaults, healthy_entities
from netops_agent.lab.sim.lab import SimLab
from netops_agent.models import FaultSpec, InjectedFault, Inventory


def sim_view(lab: SimLab) -> NetworkView:
    """The sealed view of a twin."""

    def execute(device: str, command: str) -> CommandOutput:
        return lab.execute(device, command)

    def configure(device: str, lines: list[str]) -> CommandOutput:
        return lab.configure(device, lines)

    return NetworkView(
        backend="sim",
        platform=lab.platform,
        inventory=lambda: lab.inv,
        golden_config=lambda device: lab.golden_config(device),
        transport=CallTransport(execute, configure),
        now=lambda: lab.clock,
        wait=lambda seconds: lab.advance(seconds),
        telemetry_since=lambda since: lab.telemetry_since(since),
        logs_since=lambda since: lab.logs_since(since),
        concurrent=lambda: lab.concurrent(),
    )


class SimControl:
    """The control face of a twin (see `lab.base.ControlFace`)."""

    backend = "sim"

    def __init__(self, lab: SimLab) -> None:
        self.lab = lab
        self.faults = SimFaults(lab)
        self._view: NetworkView | None = None
        self._disturbed: tuple[tuple[str, ...], dict[str, list[str]]] = ((), {})

    def view(self) -> NetworkView:
        if self._view is None:
            self._view = sim_view(self.lab)
        return self._view

    def inventory(self) -> Inventory:
        return self.lab.inv

    def now(self) -> datetime:
        return self.lab.clock

    def advance(self, seconds: float) -> None:
        self.lab.advance(seconds)

    def set_criticality(self, tiers: dict[str, str]) -> None:
        apply_criticality(self.lab.inv, tiers)

    def inject(self, spec: FaultSpec, seed: int = 0) -> InjectedFault:
        return self.faults.inject(spec, seed=seed)

    def inject_all(self, specs: list[FaultSpec], seed: int = 0) -> list[InjectedFault]:
        """A case's faults: targets picked in the case's order, isolation applied last."""
        return self.faults.inject_all(specs, seed=seed)

    def repair(self, fault: InjectedFault) -> None:
        """Put the fault's devices back to golden config and clear their physical faults."""
        devices = {fault.target["device"], fault.target.get("peer_device")} - {None}
        cond = self.lab.cond
        for dev in devices:
            self.lab.restore_golden(dev)
            cond.down_devices = [d for d in cond.down_devices if d != dev]
            cond.cpu_hogs.pop(dev, None)
            cond.mem_leak.pop(dev, None)
            for table in (cond.optic_rx_dbm, cond.err_disabled, cond.peer_prefixes):
                for k in [k for k in table if k.split("|", 1)[0] == dev]:
                    del table[k]
        link = fault.target.get("link")
        if link:
            cond.cut_links = [x for x in cond.cut_links if x != link]
            cond.extra_load.pop(link, None)
        for lk in self.lab.inv.links:
            if fault.type == "link_congestion" and fault.target.get("device") in (lk.a_device, lk.b_device):
                cond.extra_load.pop(lk.id, None)
        self.lab.ground_truth[:] = [f for f in self.lab.ground_truth if f.id != fault.id]
        self.lab.commit()

    def injected(self) -> list[InjectedFault]:
        return self.faults.injected()

    def fault_present(self, fault: InjectedFault) -> bool:
        return self.faults.fault_present(fault)

    def state_hash(self) -> str:
        return self.lab.state_hash()

    def healthy_entities(self) -> set[str]:
        return healthy_entities(self.lab)

    def disturbed(self, fault: InjectedFault) -> set[str]:
        """Entities whose observable state differs because of `fault` (see
        `lab.sim.disturbance`): twins rebuilt from golden with the case's recorded faults
        re-applied, the fault alone against none and all against all but this one. The
        case's faults are the ones this twin holds (plus `fault` if it is not among them);
        the agent's twin itself is never diffed."""
        faults = self.injected()
        if all(f.id != fault.id for f in faults):
            faults.append(fault)
        key = tuple(f.model_dump_json() for f in faults)
        if self._disturbed[0] != key:
            from netops_agent.lab.sim.disturbance import disturbed

            self._disturbed = (key, disturbed(self.lab.profile, self.lab.seed, faults))
        return set(self._disturbed[1][fault.id])
