"""Counters, rates and telemetry for the twin, computed for every interface at once.

Rates follow state: an interface carries traffic only when it is up, a degraded
optic adds CRC errors, a duplex mismatch adds late collisions, offered load above
line rate becomes output discards. Counters only grow. Telemetry samples are built
as numpy columns and handed to DuckDB as one Arrow table per batch of ticks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pyarrow as pa

from netops_agent.lab.sim.config import DeviceConfig
from netops_agent.lab.sim.state import Conditions, Derived, _Wiring
from netops_agent.models import Inventory, Link
from netops_agent.store.telemetry import numeric_array

COUNTERS = (
    "in_octets",
    "out_octets",
    "in_packets",
    "out_packets",
    "in_errors",
    "in_crc",
    "in_discards",
    "out_discards",
    "late_collisions",
)
C = {name: i for i, name in enumerate(COUNTERS)}
AVG_PACKET_BYTES = 700.0
DEGRADED_RX_DBM = -12.0


@dataclass
class Rates:
    """Per-interface rates (per second) and gauges derived from one state."""

    per_s: np.ndarray  # (n_if, len(COUNTERS))
    in_util: np.ndarray  # 0..1
    out_util: np.ndarray
    oper_up: np.ndarray  # bool
    admin_up: np.ndarray
    latency_ms: np.ndarray  # extra latency contributed by queueing on this interface
    loss: np.ndarray  # packet loss fraction through this interface
    bgp_device: np.ndarray  # per configured BGP neighbour
    bgp_peer: np.ndarray
    bgp_up: np.ndarray


class InterfaceIndex:
    """A fixed order of interfaces so counters and rates live in numpy arrays."""

    def __init__(self, inv: Inventory) -> None:
        self.interfaces_of = inv.interfaces  # the list it was built from (see `of`)
        self.keys: list[tuple[str, str]] = [(i.device, i.name) for i in inv.interfaces]
        self.pos = {k: n for n, k in enumerate(self.keys)}
        self.speed_bps = np.array([i.speed_mbps * 1e6 for i in inv.interfaces])
        self.kind = np.array([i.kind for i in inv.interfaces])
        rng = np.random.default_rng(7)
        self.base_util = np.where(
            self.kind == "p2p",
            rng.uniform(0.05, 0.35, len(self.keys)),
            np.where(self.kind == "svi", 0.1, 0.0),
        )
        self.devices = np.array([d for d, _ in self.keys])
        self.names = np.array([n for _, n in self.keys])
        for arr in (self.speed_bps, self.kind, self.base_util, self.devices, self.names):
            arr.setflags(write=False)  # shared by the twins of one inventory (`of`)

    @classmethod
    def of(cls, inv: Inventory) -> InterfaceIndex:
        """The index of an inventory's interfaces, built once per interface list (twins of
        one generated network share it: `topology.own_inventory` keeps the list)."""
        idx = inv.__dict__.get("_sim_index")
        if idx is None or idx.interfaces_of is not inv.interfaces:
            idx = cls(inv)
            inv.__dict__["_sim_index"] = idx
        return idx  # type: ignore[no-any-return]


def compute_rates(
    inv: Inventory, idx: InterfaceIndex, d: Derived, cond: Conditions, configs: dict[str, DeviceConfig]
) -> Rates:
    n = len(idx.keys)
    oper = np.array([d.iface[k].oper_up for k in idx.keys])
    admin = np.array([d.iface[k].admin_up for k in idx.keys])
    offered_out = idx.base_util.copy()
    offered_in = idx.base_util * 0.9
    latency = np.zeros(n)
    loss = np.zeros(n)
    per_s = np.zeros((n, len(COUNTERS)))
    links = {link.id: link for link in inv.links}
    for link_id, extra in cond.extra_load.items():
        sender = cond.load_sender.get(link_id, links[link_id].a_device)
        for (dev, out_if), (peer, in_if), share in _carriers(links[link_id], d, configs, inv, sender):
            offered_out[idx.pos[(dev, out_if)]] += extra * share
            offered_in[idx.pos[(peer, in_if)]] += extra * share
    for k, dbm in cond.optic_rx_dbm.items():
        dev, name = k.split("|", 1)
        if dbm <= DEGRADED_RX_DBM and (dev, name) in idx.pos:
            p = idx.pos[(dev, name)]
            per_s[p, C["in_crc"]] += 25.0
            loss[p] += 0.06
    duplex, peer_end = d.duplex, _Wiring.of(inv).peer_end
    for k, eff in duplex.items():  # each end against its cable's other end (`_peer_duplex`)
        peer = peer_end.get(k)
        if eff == (duplex[peer] if peer is not None else eff):
            continue
        p = idx.pos[k]
        if eff == "half":
            per_s[p, C["late_collisions"]] += 4.0
        else:
            per_s[p, C["in_crc"]] += 6.0
        loss[p] += 0.03
    in_util = np.where(oper, np.minimum(offered_in, 1.0), 0.0)
    out_util = np.where(oper, np.minimum(offered_out, 1.0), 0.0)
    excess = np.where(oper, np.maximum(offered_out - 1.0, 0.0), 0.0)
    hot = excess > 0
    latency[hot] += 35.0 + 100.0 * excess[hot]
    loss[hot] += np.minimum(excess[hot] / (1.0 + excess[hot]), 0.5)
    per_s[:, C["in_octets"]] = in_util * idx.speed_bps / 8
    per_s[:, C["out_octets"]] = out_util * idx.speed_bps / 8
    per_s[:, C["in_packets"]] = per_s[:, C["in_octets"]] / AVG_PACKET_BYTES
    per_s[:, C["out_packets"]] = per_s[:, C["out_octets"]] / AVG_PACKET_BYTES
    per_s[:, C["out_discards"]] = excess * idx.speed_bps / 8 / AVG_PACKET_BYTES
    per_s[:, C["in_errors"]] = per_s[:, C["in_crc"]]
    per_s[~oper] = 0.0
    bkeys = list(d.bgp)
    return Rates(
        per_s,
        in_util,
        out_util,
        oper,
        admin,
        latency,
        np.where(oper, loss, 0.0),
        bgp_device=np.array([k[0] for k in bkeys], dtype=object),
        bgp_peer=np.array([k[1] for k in bkeys], dtype=object),
        bgp_up=np.array([d.bgp[k].state == "Established" for k in bkeys], dtype=float),
    )


def _carriers(
    link: Link, d: Derived, configs: dict[str, DeviceConfig], inv: Inventory, sender: str
) -> list[tuple[tuple[str, str], tuple[str, str], float]]:
    """Where a traffic surge sent by `sender` over `link` flows: on the link itself unless its
    OSPF cost was raised and the sender has other up uplinks at default cost to carry it."""
    here = (sender, _local_if(link, sender))
    raised = (configs[link.a_device].interfaces[link.a_interface].ospf_cost or 1) > 1 or (
        configs[link.b_device].interfaces[link.b_interface].ospf_cost or 1
    ) > 1
    if raised:
        others = [
            lk
            for lk in inv.links
            if lk.id != link.id
            and sender in (lk.a_device, lk.b_device)
            and d.ospf.get((sender, _local_if(lk, sender))) == "FULL"
            and (configs[sender].interfaces[_local_if(lk, sender)].ospf_cost or 1) == 1
        ]
        if others:
            share = 1.0 / len(others)
            return [((sender, _local_if(lk, sender)), lk.peer_of(sender), share) for lk in others]
    return [(here, link.peer_of(sender), 1.0)]


def _local_if(link: Link, device: str) -> str:
    return link.a_interface if link.a_device == device else link.b_interface


def _peer_duplex(inv: Inventory, d: Derived, dev: str, name: str) -> str:
    link = inv.link_of(dev, name)
    if link is None:
        return d.duplex[(dev, name)]
    return d.duplex[link.peer_of(dev)]


def device_gauges(
    inv: Inventory,
    cond: Conditions,
    now: datetime,
    base_cpu: dict[str, float],
    base_mem: dict[str, float],
) -> tuple[np.ndarray, np.ndarray]:
    """CPU and memory utilisation (percent) per device, in inventory order."""
    cpu = np.array([base_cpu[dv.name] + sum(cond.cpu_hogs.get(dv.name, {}).values()) for dv in inv.devices])
    mem = np.array([base_mem[dv.name] for dv in inv.devices])
    for n, dv in enumerate(inv.devices):
        leak = cond.mem_leak.get(dv.name)
        if leak:
            minutes = (now - datetime.fromisoformat(str(leak["since"]))).total_seconds() / 60
            mem[n] += leak["rate"] * max(minutes, 0.0)
    return np.minimum(cpu, 99.0), np.minimum(mem, 99.0)


class Gauges:
    """`device_gauges` for one twin's devices and base gauges, the bases read into arrays
    once (in inventory order): per tick only the devices with a hog or a leak are touched."""

    def __init__(self, inv: Inventory, base_cpu: dict[str, float], base_mem: dict[str, float]) -> None:
        self.devices = inv.devices  # the list the bases were read for
        names = [dv.name for dv in inv.devices]
        self.pos = {name: n for n, name in enumerate(names)}
        self.base_cpu, self.base_mem = base_cpu, base_mem
        self.cpu = np.array([base_cpu[name] for name in names])
        self.mem = np.array([base_mem[name] for name in names])

    def fits(self, inv: Inventory, base_cpu: dict[str, float], base_mem: dict[str, float]) -> bool:
        return inv.devices is self.devices and base_cpu is self.base_cpu and base_mem is self.base_mem

    def __call__(self, cond: Conditions, now: datetime) -> tuple[np.ndarray, np.ndarray]:
        cpu, mem = self.cpu, self.mem
        if cond.cpu_hogs:
            cpu = cpu.copy()
            for dev, hogs in cond.cpu_hogs.items():
                n = self.pos.get(dev)
                if n is not None:
                    cpu[n] = self.base_cpu[dev] + sum(hogs.values())
        if cond.mem_leak:
            mem = mem.copy()
            for dev, leak in cond.mem_leak.items():
                n = self.pos.get(dev)
                if n is not None and leak:
                    minutes = (now - datetime.fromisoformat(str(leak["since"]))).total_seconds() / 60
                    mem[n] += leak["rate"] * max(minutes, 0.0)
        return np.minimum(cpu, 99.0), np.minimum(mem, 99.0)


IF_METRICS = (
    "in-octets",
    "out-octets",
    "in-errors",
    "in-fcs-errors",
    "in-discards",
    "out-discards",
    "late-collisions",
    "oper-status",
    "admin-status",
    "in-utilization",
    "out-utilization",
)
DEVICE_METRICS = ("cpu-utilization", "memory-utilization")


@dataclass
class Layout:
    """The columns of a telemetry tick that do not change between ticks (dictionary-encoded)."""

    device: pa.Array
    entity: pa.Array
    metric: pa.Array
    rows: int


def layout(inv: Inventory, idx: InterfaceIndex, rates: Rates) -> Layout:
    """Per row of a tick: the interface metrics (each for every interface in index order),
    the device gauges (each for every device), the BGP sessions."""
    n, nd, nb = len(idx.keys), len(inv.devices), len(rates.bgp_device)
    dev_names = np.array([dv.name for dv in inv.devices], dtype=object)
    devices = _encode_parts(
        [(idx.devices, len(IF_METRICS), 1), (dev_names, len(DEVICE_METRICS), 1), (rates.bgp_device, 1, 1)]
    )
    entities = _encode_parts(
        [
            (idx.names, len(IF_METRICS), 1),
            (np.array(["system"]), 1, nd * len(DEVICE_METRICS)),
            (rates.bgp_peer, 1, 1),
        ]
    )
    metrics = _encode_parts(
        [
            (np.array(IF_METRICS), 1, n),
            (np.array(DEVICE_METRICS), 1, nd),
            (np.array(["bgp-session-established"]), 1, nb),
        ]
    )
    return Layout(devices, entities, metrics, n * len(IF_METRICS) + nd * len(DEVICE_METRICS) + nb)


def _encode_parts(parts: list[tuple[np.ndarray, int, int]]) -> pa.Array:
    """`_encode` of the concatenation of `np.tile(np.repeat(values, each), times)` over the
    parts (values, times, each), numbering each part's values once: a repeated value adds
    no new one, so the first occurrences come in the order of the values themselves."""
    seen: dict[object, int] = {}
    number = seen.setdefault
    out = []
    for values, times, each in parts:
        if not (len(values) and times and each):
            continue  # the part has no rows: its values do not occur
        codes = np.fromiter((number(v, len(seen)) for v in values.tolist()), np.int32, len(values))
        out.append(np.tile(np.repeat(codes, each), times))
    codes = np.concatenate(out) if out else np.zeros(0, np.int32)
    return pa.DictionaryArray.from_arrays(numeric_array(codes, pa.int32()), pa.array(list(seen), pa.string()))


def _encode(values: np.ndarray) -> pa.Array:
    """`pa.array(values, pa.string()).dictionary_encode()` (first-occurrence order, int32
    codes), built without pyarrow.compute (Arrow's dictionary_encode loads it, ~40 ms): a
    dict numbers the values as they first appear (a hash per value; np.unique would sort
    the strings, several times slower)."""
    seen: dict[object, int] = {}
    number = seen.setdefault
    codes = np.fromiter((number(v, len(seen)) for v in values.tolist()), np.int32, len(values))
    return pa.DictionaryArray.from_arrays(numeric_array(codes, pa.int32()), pa.array(list(seen), pa.string()))


def sample(
    lay: Layout,
    rates: Rates,
    counters: np.ndarray,
    cpu: np.ndarray,
    mem: np.ndarray,
    ts: datetime,
    rng: np.random.Generator,
    jitter: float = 0.0,
) -> pa.Table:
    """One telemetry tick for the whole network as a long-format Arrow table."""
    tbl = sample_values(lay, rates, counters, cpu, mem, rng, jitter)
    stamps = np.full(lay.rows, np.datetime64(ts, "us"))
    return tbl.add_column(0, TS_FIELD, numeric_array(stamps, TS_FIELD.type))


TS_FIELD = pa.field("ts", pa.timestamp("us"))


def rate_columns(rates: Rates, noise: float | np.ndarray) -> list[np.ndarray]:
    """A tick's status and utilisation values (per interface), the utilisation scaled by
    `noise` (1.0, or 1 + the jitter's draws)."""
    return [
        np.where(rates.oper_up, 1.0, 2.0),
        np.where(rates.admin_up, 1.0, 2.0),
        np.clip(rates.in_util * 100 * noise, 0, 100),
        np.clip(rates.out_util * 100 * noise, 0, 100),
    ]


def sample_values(
    lay: Layout,
    rates: Rates,
    counters: np.ndarray,
    cpu: np.ndarray,
    mem: np.ndarray,
    rng: np.random.Generator,
    jitter: float = 0.0,
    tail: list[np.ndarray] | None = None,
) -> pa.Table:
    """`sample` without its `ts` column (every row of a tick has the same stamp). `tail`:
    `rate_columns(rates, 1.0)`, kept by the caller while the rates stand (without jitter
    they do not change from tick to tick)."""
    n = counters.shape[0]
    if jitter or tail is None:
        tail = rate_columns(rates, 1.0 + (rng.normal(0.0, jitter, n) if jitter else 0.0))
    values = np.concatenate(
        [
            counters[:, C["in_octets"]],
            counters[:, C["out_octets"]],
            counters[:, C["in_errors"]],
            counters[:, C["in_crc"]],
            counters[:, C["in_discards"]],
            counters[:, C["out_discards"]],
            counters[:, C["late_collisions"]],
            *tail,
            cpu,
            mem,
            rates.bgp_up,
        ]
    )
    return pa.Table.from_arrays(
        [lay.device, lay.entity, lay.metric, numeric_array(values, pa.float64())],
        names=["device", "entity", "metric", "value"],
    )
