"""How each fault type is caused, checked, fixed and repaired in the FRR lab.

One class per fault type, each with four answers:
- `inject`: change the cause the way it happens in a network (an operator's config
  line, a cut cable, a shaped and overloaded link) and return the facts to remember;
- `present`: is the cause still there? Read from the real routers (running config,
  kernel link state and MTU, qdiscs, nftables, the cable state), never from symptoms;
- `fix`: the catalog's correct remote action as (device, config lines), or none;
- `repair`: put things back as a field engineer or the harness would (also after a
  wrong fix), used for cleanup and for faults that cannot be fixed remotely.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from typing import Any

from netops_agent.errors import FaultTargetError
from netops_agent.lab.frr import observe
from netops_agent.lab.frr.lab import FrrLab
from netops_agent.lab.frr.system import run
from netops_agent.lab.frr.topology import (
    CUSTOMER_ACL,
    CUSTOMER_ACL_PERMIT_SEQ,
    OSPF_DEAD,
    OSPF_HELLO,
    static_routes,
)
from netops_agent.tools.frr_parsers import config_section

Change = tuple[str, list[str]]  # (device, configuration lines)


@dataclass
class Ctx:
    """One fault's target and facts, with the lab operations the fault types need."""

    lab: FrrLab
    target: dict[str, Any]
    params: dict[str, Any]
    fault_id: str

    def __getitem__(self, key: str) -> Any:
        return self.target[key]

    def configure(self, device: str, lines: list[str]) -> None:
        out = self.lab.configure(device, lines)
        if not out.ok:
            raise FaultTargetError(f"could not change {device}: {out.error}")

    def running(self, device: str) -> str:
        return self.lab.execute(device, "show running-config").text

    def asn(self, device: str) -> int:
        return self.lab.inventory().device(device).asn

    def ns(self, device: str) -> str:
        return self.lab.router(device).ns

    def bgp_block(self, device: str) -> str:
        return config_section(self.running(device), f"router bgp {self.asn(device)}")

    def golden_mtu(self, device: str, ifname: str) -> int:
        itf = self.lab.inventory().interface(device, ifname)
        return itf.mtu if itf else 1500


class FaultKind:
    """Base: a fault with no remote fix whose repair re-applies its fix lines."""

    def inject(self, c: Ctx) -> dict[str, Any]:
        raise NotImplementedError

    def present(self, c: Ctx) -> bool:
        raise NotImplementedError

    def fix(self, c: Ctx) -> list[Change]:
        return []

    def golden(self, c: Ctx) -> list[Change]:
        """Golden lines a wrong fix may have removed (re-applied by `repair`)."""
        return []

    def repair(self, c: Ctx) -> None:
        for device, lines in self.fix(c) + self.golden(c):
            c.lab.configure(device, lines)  # best effort: a line may already be as intended


class InterfaceAdminDown(FaultKind):
    def inject(self, c: Ctx) -> dict[str, Any]:
        c.configure(c["device"], [f"interface {c['interface']}", " shutdown"])
        return {}

    def present(self, c: Ctx) -> bool:
        link = observe.link(c.ns(c["device"]), c["interface"]) or {}
        return "UP" not in link.get("flags", [])

    def fix(self, c: Ctx) -> list[Change]:
        return [(c["device"], [f"interface {c['interface']}", " no shutdown"])]


class LinkFailure(FaultKind):
    """The cable is cut in the wire namespace: no router command can mend it."""

    def inject(self, c: Ctx) -> dict[str, Any]:
        c.lab.reloaded().cut_links.append(c["link"])
        c.lab.save()
        c.lab.sync_carrier(c["device"])
        link = c.lab.state.link(c["link"])
        return {"wire_ports": [link.a_port, link.b_port]}

    def present(self, c: Ctx) -> bool:
        return c["link"] in c.lab.reloaded().cut_links

    def repair(self, c: Ctx) -> None:
        state = c.lab.reloaded()
        state.cut_links = [link for link in state.cut_links if link != c["link"]]
        c.lab.save()
        c.lab.sync_carrier(c["device"])


class MtuMismatch(FaultKind):
    ODD_MTU = 9000

    def inject(self, c: Ctx) -> dict[str, Any]:
        c.configure(c["device"], [f"interface {c['interface']}", f" mtu {self.ODD_MTU}"])
        return {"mtu": self.ODD_MTU, "standard_mtu": c.golden_mtu(c["device"], c["interface"])}

    def present(self, c: Ctx) -> bool:
        return _mtu(c, c["device"], c["interface"]) != _mtu(c, c["peer_device"], c["peer_interface"])

    def fix(self, c: Ctx) -> list[Change]:
        return [(c["device"], [f"interface {c['interface']}", f" mtu {c.params['standard_mtu']}"])]

    def golden(self, c: Ctx) -> list[Change]:
        mtu = c.golden_mtu(c["peer_device"], c["peer_interface"])
        return [(c["peer_device"], [f"interface {c['peer_interface']}", f" mtu {mtu}"])]


class OspfTimerMismatch(FaultKind):
    """A hello interval that differs from the far end's: hellos are refused both ways.

    The dead interval stays the lab's 4 s, so both ends drop the adjacency within 4 s
    (a longer dead interval on the changed end would keep its side up that long).
    """

    BAD_HELLO, BAD_DEAD = 2, OSPF_DEAD

    def inject(self, c: Ctx) -> dict[str, Any]:
        c.configure(c["device"], _timer_lines(c["interface"], self.BAD_HELLO, self.BAD_DEAD))
        return {"hello": self.BAD_HELLO, "dead": self.BAD_DEAD}

    def present(self, c: Ctx) -> bool:
        mine = _timers(c.running(c["device"]), c["interface"])
        return mine != _timers(c.running(c["peer_device"]), c["peer_interface"])

    def fix(self, c: Ctx) -> list[Change]:
        return [(c["device"], _timer_lines(c["interface"], OSPF_HELLO, OSPF_DEAD))]

    def golden(self, c: Ctx) -> list[Change]:
        return [(c["peer_device"], _timer_lines(c["peer_interface"], OSPF_HELLO, OSPF_DEAD))]


class BgpNeighborShutdown(FaultKind):
    def inject(self, c: Ctx) -> dict[str, Any]:
        c.configure(c["device"], [f"router bgp {c.asn(c['device'])}", f" neighbor {c['peer']} shutdown"])
        return {}

    def present(self, c: Ctx) -> bool:
        block = c.bgp_block(c["device"])
        return _remote_as(block, c["peer"]) is None or f"neighbor {c['peer']} shutdown" in block

    def fix(self, c: Ctx) -> list[Change]:
        return [(c["device"], [f"router bgp {c.asn(c['device'])}", f" no neighbor {c['peer']} shutdown"])]

    def golden(self, c: Ctx) -> list[Change]:
        return _golden_neighbor(c)


class BgpAsnMismatch(FaultKind):
    def inject(self, c: Ctx) -> dict[str, Any]:
        wrong = c.asn(c["peer_device"]) + 7
        c.configure(
            c["device"], [f"router bgp {c.asn(c['device'])}", f" neighbor {c['peer']} remote-as {wrong}"]
        )
        return {"configured_as": wrong}

    def present(self, c: Ctx) -> bool:
        return _remote_as(c.bgp_block(c["device"]), c["peer"]) != c.asn(c["peer_device"])

    def fix(self, c: Ctx) -> list[Change]:
        line = f" neighbor {c['peer']} remote-as {c.asn(c['peer_device'])}"
        return [(c["device"], [f"router bgp {c.asn(c['device'])}", line])]

    def golden(self, c: Ctx) -> list[Change]:
        return _golden_neighbor(c)


class RouteMissing(FaultKind):
    def inject(self, c: Ctx) -> dict[str, Any]:
        prefix = static_routes(c.lab.inventory(), c["device"])[0]
        c.configure(c["device"], [f"no ip route {prefix} Null0"])
        return {"prefix": prefix, "nexthop": "Null0"}

    def present(self, c: Ctx) -> bool:
        return f"ip route {c.params['prefix']} {c.params['nexthop']}" not in c.running(c["device"])

    def fix(self, c: Ctx) -> list[Change]:
        return [(c["device"], [f"ip route {c.params['prefix']} {c.params['nexthop']}"])]


class AclBlocking(FaultKind):
    """A deny entry for the leaf's own customer prefix in its outbound customer ACL."""

    SEQ = 50

    def inject(self, c: Ctx) -> dict[str, Any]:
        itf = c.lab.inventory().interface(c["device"], c["interface"])
        if itf is None or itf.ip is None:
            raise FaultTargetError(f"acl_blocking: {c['device']} {c['interface']} has no address")
        prefix = f"{'.'.join(itf.ip.split('.')[:3])}.0/{itf.prefixlen}"
        c.configure(c["device"], [f"access-list {CUSTOMER_ACL} seq {self.SEQ} deny {prefix}"])
        return {"acl": CUSTOMER_ACL, "seq": self.SEQ, "prefix": prefix}

    def present(self, c: Ctx) -> bool:
        return observe.nft_drops(c.ns(c["device"]), c["interface"], c.params["prefix"])

    def fix(self, c: Ctx) -> list[Change]:
        p = c.params
        return [(c["device"], [f"no access-list {p['acl']} seq {p['seq']} deny {p['prefix']}"])]

    def golden(self, c: Ctx) -> list[Change]:
        lines = [f"access-list {CUSTOMER_ACL} seq {CUSTOMER_ACL_PERMIT_SEQ} permit any",
                 f"interface {c['interface']}", f" ip access-group {CUSTOMER_ACL} out"]  # fmt: skip
        return [(c["device"], lines)]


# An open-loop UDP sender: ping paces itself to the link and never overfills a queue.
LOAD_SCRIPT = """
import socket, sys, time
dest, pps, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 21)
s.setblocking(False)
payload, gap, due = bytes(size), 1.0 / pps, time.monotonic()
while True:
    try:
        s.sendto(payload, (dest, 9))
    except OSError:
        pass
    due += gap
    pause = due - time.monotonic()
    if pause > 0:
        time.sleep(pause)
    elif pause < -1:
        due = time.monotonic()
"""
LOAD_MARKER = "netops-frr-load"


class LinkCongestion(FaultKind):
    """A 10 Mbit/s shaper on the link (its nominal speed) and 24 Mbit/s offered to it.

    The load goes to the far router's loopback, which OSPF reaches over this link;
    raising the link's OSPF cost moves the load to the other spine: the fault is then
    mitigated (no longer present) although the shaper stays until `repair`.

    The shaper is an HTB tree: routing-protocol packets (OSPF, BGP) go to their own
    class ahead of the data, as a router's control-plane priority queue does; without
    it, tail drops of OSPF hellos would drop the adjacency now and then, moving the
    load away by themselves. Data waits in a byte FIFO of ~400 ms at 10 Mbit/s (an
    oversized buffer, as congested links often have): the link stays busy through the
    pauses of a sender on a busy host, so its utilisation reads as the saturation it is
    (with ~80 ms, a starved sender left gaps: 89% read, drops rising, nothing confirmed).
    """

    RATE, LIMIT_BYTES = "10mbit", 500000
    LOAD_PPS, LOAD_SIZE = 2000, 1472  # ~24 Mbit/s offered
    SHIFT_COST = 1000
    SHAPERS = ("htb", "tbf")
    CONTROL = (["ip", "protocol", "89", "0xff"],  # OSPF
               ["ip", "protocol", "6", "0xff", "match", "ip", "dport", "179", "0xffff"],  # BGP
               ["ip", "protocol", "6", "0xff", "match", "ip", "sport", "179", "0xffff"])  # fmt: skip

    def inject(self, c: Ctx) -> dict[str, Any]:
        dest = c.lab.inventory().device(c["peer_device"]).loopback
        tc = ["tc", "-n", c.ns(c["device"])]
        dev = ["dev", c["interface"]]
        run([*tc, "qdisc", "replace", *dev, "root", "handle", "1:", "htb", "default", "20"])
        run([*tc, "class", "add", *dev, "parent", "1:", "classid", "1:1", "htb",
             "rate", self.RATE, "ceil", self.RATE, "burst", "16k"])  # fmt: skip
        run([*tc, "class", "add", *dev, "parent", "1:1", "classid", "1:10", "htb",
             "rate", "1mbit", "ceil", self.RATE, "prio", "0"])  # fmt: skip
        run([*tc, "class", "add", *dev, "parent", "1:1", "classid", "1:20", "htb",
             "rate", "9mbit", "ceil", self.RATE, "prio", "1"])  # fmt: skip
        run(
            [
                *tc,
                "qdisc",
                "add",
                *dev,
                "parent",
                "1:20",
                "handle",
                "20:",
                "bfifo",
                "limit",
                str(self.LIMIT_BYTES),
            ]
        )
        for match in self.CONTROL:
            run([*tc, "filter", "add", *dev, "parent", "1:", "protocol", "ip", "prio", "1", "u32",
                 "match", *match, "flowid", "1:10"])  # fmt: skip
        argv = [sys.executable, "-c", LOAD_SCRIPT, dest, str(self.LOAD_PPS), str(self.LOAD_SIZE), LOAD_MARKER]
        c.lab.start_helper(c["device"], argv, "link_congestion load", c.fault_id, LOAD_MARKER)
        return {"rate": self.RATE, "load_destination": dest}

    def present(self, c: Ctx) -> bool:
        ns = c.ns(c["device"])
        shaped = any(
            q.get("dev") == c["interface"] and q.get("root") and q.get("kind") in self.SHAPERS
            for q in observe.qdiscs(ns)
        )
        return shaped and observe.route_dev(ns, c.params["load_destination"]) == c["interface"]

    def fix(self, c: Ctx) -> list[Change]:
        return [(c["device"], [f"interface {c['interface']}", f" ip ospf cost {self.SHIFT_COST}"])]

    def repair(self, c: Ctx) -> None:
        c.lab.stop_helpers(c.fault_id)
        run(["tc", "-n", c.ns(c["device"]), "qdisc", "del", "dev", c["interface"], "root"], check=False)
        c.lab.configure(c["device"], [f"interface {c['interface']}", " no ip ospf cost"])


KINDS: dict[str, FaultKind] = {
    "interface_admin_down": InterfaceAdminDown(),
    "link_failure": LinkFailure(),
    "mtu_mismatch": MtuMismatch(),
    "ospf_timer_mismatch": OspfTimerMismatch(),
    "bgp_neighbor_shutdown": BgpNeighborShutdown(),
    "bgp_asn_mismatch": BgpAsnMismatch(),
    "route_missing": RouteMissing(),
    "acl_blocking": AclBlocking(),
    "link_congestion": LinkCongestion(),
}


# --- helpers ---------------------------------------------------------------------------


def _mtu(c: Ctx, device: str, ifname: str) -> int:
    row = observe.link(c.ns(device), ifname)
    return int(row["mtu"]) if row else 0


def _timer_lines(ifname: str, hello: int, dead: int) -> list[str]:
    return [f"interface {ifname}", f" ip ospf hello-interval {hello}", f" ip ospf dead-interval {dead}"]


def _timers(config: str, ifname: str) -> tuple[int, int]:
    """(hello, dead) of an interface from a running config (FRR defaults 10/40)."""
    block = config_section(config, f"interface {ifname}")
    hello = re.search(r"ip ospf hello-interval (\d+)", block)
    dead = re.search(r"ip ospf dead-interval (\d+)", block)
    return (int(hello.group(1)) if hello else 10, int(dead.group(1)) if dead else 40)


def _remote_as(bgp_block: str, peer: str) -> int | None:
    m = re.search(rf"neighbor {re.escape(peer)} remote-as (\d+)", bgp_block)
    return int(m.group(1)) if m else None


def _golden_neighbor(c: Ctx) -> list[Change]:
    """The neighbor's golden lines (a wrong fix may have deleted the whole neighbor)."""
    header = f"router bgp {c.asn(c['device'])}"
    block = config_section(c.lab.golden_config(c["device"]), header)
    mine = [line for line in block.splitlines() if line.startswith(f" neighbor {c['peer']} ")]
    return [(c["device"], [header, *mine])]
