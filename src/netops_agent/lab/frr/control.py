"""The FRR lab's two faces: `FrrControl` (pipeline and harness) and its sealed `NetworkView`.

The view's commands go to the routers through a `CallTransport` (vtysh, iproute2,
ping in the router's namespace); its telemetry is what a poller reads: every
`telemetry_since` call samples the routers once (`FrrTelemetry`) and returns the
samples newer than the given time. Syslog comes from FRR's own log files, tailed and
normalised into the twin's tags by `FrrSyslog` (`lab/frr/syslog.py`).
"""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pyarrow as pa

from netops_agent.lab.base import (
    TELEMETRY_SCHEMA,
    CallTransport,
    CommandOutput,
    NetworkView,
    apply_criticality,
)
from netops_agent.lab.frr import observe
from netops_agent.lab.frr.faults import FrrFaultInjector
from netops_agent.lab.frr.lab import FrrLab
from netops_agent.lab.frr.syslog import FrrSyslog
from netops_agent.lab.frr.telemetry import FrrTelemetry
from netops_agent.models import FaultSpec, InjectedFault, Inventory

POLL_MIN_GAP_S = 5.0  # half the shipped detection's sample_s


def _naive_utc(ts: datetime | None) -> datetime | None:
    if ts is None or ts.tzinfo is None:
        return ts
    return ts.astimezone(timezone.utc).replace(tzinfo=None)


class _Samples:
    """The telemetry a poller has read from the lab, newest last.

    A read samples the routers unless the newest sample is younger than `min_gap_s`
    (a poller does not poll faster than that): samples taken on a regular grid while a
    case settles (`FrrControl.poll`) stay the newest, as the detectors' sustained
    conditions (`for_s` in samples of `sample_s`) expect.
    """

    def __init__(self, lab: FrrLab, min_gap_s: float = POLL_MIN_GAP_S) -> None:
        self.collector = FrrTelemetry(lab)
        self.tables: list[pa.Table] = []
        self.min_gap_s = min_gap_s
        self._last = 0.0  # time.monotonic() of the newest sample

    def sample(self) -> pa.Table:
        tbl = self.collector.sample()
        tbl = pa.table({name: tbl[name].cast(field.type) for name, field in zip(
            TELEMETRY_SCHEMA.names, TELEMETRY_SCHEMA, strict=True)})  # fmt: skip
        self.tables.append(tbl)
        self._last = time.monotonic()
        return tbl

    def since(self, since: datetime | None) -> pa.Table:
        if not self.tables or time.monotonic() - self._last >= self.min_gap_s:
            self.sample()
        cut = _naive_utc(since)
        keep = [t for t in self.tables if t.num_rows and (cut is None or t["ts"][0].as_py() > cut)]
        return pa.concat_tables(keep).combine_chunks() if keep else TELEMETRY_SCHEMA.empty_table()


def frr_view(lab: FrrLab, samples: _Samples | None = None, syslog: FrrSyslog | None = None) -> NetworkView:
    samples = samples or _Samples(lab)
    if syslog is None:  # a view on its own listens from now on
        syslog = FrrSyslog(lab)
        syslog.skip_to_end()

    def execute(device: str, command: str) -> CommandOutput:
        return lab.execute(device, command)

    def configure(device: str, lines: list[str]) -> CommandOutput:
        return lab.configure(device, lines)

    return NetworkView(
        backend="frr",
        platform=lab.platform,
        inventory=lambda: lab.inventory(),
        golden_config=lambda device: lab.golden_config(device),
        transport=CallTransport(execute, configure),
        now=lambda: lab.now(),
        wait=lambda seconds: lab.advance(seconds),
        telemetry_since=lambda since: samples.since(since),
        logs_since=lambda since: syslog.since(since),
    )


class FrrControl:
    """The control face of a running FRR lab (see `lab.base.ControlFace`)."""

    backend = "frr"

    def __init__(self, lab: FrrLab) -> None:
        self.lab = lab
        self.faults = FrrFaultInjector(lab)
        self.samples = _Samples(lab)
        self.syslog = FrrSyslog(lab)
        self.syslog.skip_to_end()
        self._view: NetworkView | None = None

    def view(self) -> NetworkView:
        if self._view is None:
            self._view = frr_view(self.lab, self.samples, self.syslog)
        return self._view

    def restart_feeds(self) -> None:
        """Monitoring starts afresh (a new case): forget the samples and syslog read so
        far, listen to the logs from now on, and take the healthy baseline sample."""
        self.samples.tables.clear()
        self.syslog.skip_to_end()
        self.samples.sample()

    def inventory(self) -> Inventory:
        return self.lab.inventory()

    def now(self) -> datetime:
        return self.lab.now()

    def advance(self, seconds: float) -> None:
        """Real time: sleep for short waits; a long one ends when routing converged."""
        if seconds >= self.lab.CONVERGE_WAIT_S:
            self.lab.advance(seconds)
        else:
            time.sleep(max(0.0, seconds))

    def sample(self) -> None:
        """Poll the routers' counters once (the baseline monitoring compares against)."""
        self.samples.sample()

    def poll(self, seconds: float, every: float) -> None:
        """Let `seconds` pass, then sample (what monitoring has seen by the time it
        looks). A wait of several intervals polls every `every` s on the wall clock's
        grid (as a poller does), the last poll ending the wait: samples then sit one
        interval apart, as the detectors' sustained conditions count them."""
        n = int(seconds // every)
        if n <= 1:
            time.sleep(max(0.0, seconds))
            self.samples.sample()
            return
        first = time.time() + seconds - (n - 1) * every
        first += -first % every  # the next grid point
        for k in range(n):
            time.sleep(max(0.0, first + k * every - time.time()))
            self.samples.sample()

    def set_criticality(self, tiers: dict[str, str]) -> None:
        """Kept in the lab's state file, so every process attached to the lab sees it."""
        apply_criticality(self.lab.reloaded().inventory, tiers)
        self.lab.save()

    def inject(self, spec: FaultSpec, seed: int = 0) -> InjectedFault:
        return self.faults.inject(spec, seed=seed)

    def inject_all(self, specs: list[FaultSpec], seed: int = 0) -> list[InjectedFault]:
        """A case's faults in the order that always works: isolation last (a router that
        is down refuses configuration). Ids and the returned list follow that order."""
        from netops_agent.lab.disturbance import injection_order

        return [self.inject(specs[n], seed=seed) for n in injection_order([s.type for s in specs])]

    def repair(self, fault: InjectedFault) -> None:
        self.faults.repair(fault)

    def injected(self) -> list[InjectedFault]:
        return self.faults.injected()

    def fault_present(self, fault: InjectedFault) -> bool:
        return self.faults.fault_present(fault)

    def state_hash(self) -> str:
        return self.lab.state_hash()

    def healthy_entities(self) -> set[str]:
        return observe.healthy_entities(self.lab.state)

    def disturbed(self, fault: InjectedFault) -> set[str]:
        """Approximated from the fault's target and the inventory (`lab.disturbance`):
        real routers cannot be rebuilt without each fault in the time of a case."""
        from netops_agent.lab.disturbance import approx_disturbed

        return set(approx_disturbed(self.inventory(), fault))
