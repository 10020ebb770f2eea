"""Reading the FRR lab's real state: sessions, adjacencies, links, qdiscs, ACL rules.

These helpers back `FrrLab.status()`, the wait for convergence at bring-up,
`state_hash()` and the fault injector's `fault_present()` checks. They read the
routers directly (vtysh JSON, `ip -j`, `tc -j`, `nft -j`) and parse with the same
normalising parsers the tools use.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from netops_agent.errors import LabError
from netops_agent.lab.base import CommandOutput
from netops_agent.lab.frr.daemons import daemons_alive, vtysh
from netops_agent.lab.frr.state import LabState, RouterState
from netops_agent.lab.frr.system import run
from netops_agent.lab.frr.translate import NFT_TABLE
from netops_agent.tools.frr_parsers import (
    parse_show_ip_bgp_summary,
    parse_show_ip_ospf_neighbor,
)


def vtysh_json(router: RouterState, command: str) -> Any:
    """Run a `... json` show command; None if the daemon does not answer."""
    proc = vtysh(router, [command])
    if proc.returncode != 0:
        return None
    try:
        return json.loads(proc.stdout or "null")
    except json.JSONDecodeError:
        return None


def bgp_rows(router: RouterState) -> list[dict[str, Any]]:
    data = vtysh_json(router, "show bgp summary json")
    if data is None:
        return []
    return parse_show_ip_bgp_summary(CommandOutput(ok=True, text="", fmt="json", data=data))


def ospf_rows(router: RouterState) -> list[dict[str, Any]]:
    data = vtysh_json(router, "show ip ospf neighbor json")
    if data is None:
        return []
    return parse_show_ip_ospf_neighbor(CommandOutput(ok=True, text="", fmt="json", data=data))


def expected_counts(state: LabState, device: str) -> tuple[int, int]:
    """(BGP sessions, OSPF adjacencies) the inventory says this router should have."""
    inv = state.inventory
    sessions = sum(1 for s in inv.bgp_sessions if s.device == device)
    adjacencies = sum(1 for link in inv.links if device in (link.a_device, link.b_device))
    return sessions, adjacencies


def router_status(state: LabState, name: str) -> dict[str, Any]:
    router = state.routers[name]
    alive = daemons_alive(router)
    want_bgp, want_ospf = expected_counts(state, name)
    bgp = bgp_rows(router) if alive.get("bgpd") else []
    ospf = ospf_rows(router) if alive.get("ospfd") else []
    return {
        "router": name,
        "namespace": router.ns,
        "daemons": alive,
        "bgp_established": sum(1 for r in bgp if r["state"] == "Established"),
        "bgp_sessions": want_bgp,
        "ospf_full": sum(1 for r in ospf if r["state"] == "FULL"),
        "ospf_adjacencies": want_ospf,
    }


def wait_converged(state: LabState, timeout: float, started: float) -> dict[str, float]:
    """Poll until every BGP session is Established, every OSPF adjacency FULL and every
    router has a route to every loopback and originated prefix.

    Returns the seconds since `started` at which each milestone was first seen
    (`bgp_established_s`, `ospf_full_s`, `routes_s`). Raises `LabError` naming what
    is still missing when `timeout` expires.
    """
    done: dict[str, float] = {}
    deadline = time.monotonic() + timeout
    while True:
        rows = [router_status(state, name) for name in state.routers]
        bgp_ok = all(r["bgp_established"] >= r["bgp_sessions"] for r in rows)
        ospf_ok = all(r["ospf_full"] >= r["ospf_adjacencies"] for r in rows)
        missing = missing_routes(state) if bgp_ok and ospf_ok else {"routes": ["not checked yet"]}
        for key, reached in (("bgp_established_s", bgp_ok), ("ospf_full_s", ospf_ok),
                             ("routes_s", not missing)):  # fmt: skip
            if reached and key not in done:
                done[key] = round(time.monotonic() - started, 3)
        if len(done) == 3:
            return done
        if time.monotonic() > deadline:
            raise LabError(_shortfall(rows, missing, timeout))
        time.sleep(0.2)


def converged(state: LabState) -> bool:
    """Is the lab fully converged right now (sessions, adjacencies, routes)?"""
    rows = [router_status(state, name) for name in state.routers]
    return (
        all(r["bgp_established"] >= r["bgp_sessions"] for r in rows)
        and all(r["ospf_full"] >= r["ospf_adjacencies"] for r in rows)
        and not missing_routes(state)
    )


def _shortfall(rows: list[dict[str, Any]], missing: dict[str, list[str]], timeout: float) -> str:
    short = [
        f"{r['router']}: BGP {r['bgp_established']}/{r['bgp_sessions']} Established, "
        f"OSPF {r['ospf_full']}/{r['ospf_adjacencies']} FULL, daemons up: "
        + ",".join(d for d, ok in r["daemons"].items() if ok)
        for r in rows
        if r["bgp_established"] < r["bgp_sessions"] or r["ospf_full"] < r["ospf_adjacencies"]
    ]
    short += [f"{name}: no route to {', '.join(nets)}" for name, nets in missing.items()]
    return (
        f"the FRR lab did not converge within {timeout:.0f}s:\n  "
        + "\n  ".join(short)
        + "\n  see the daemon logs in /var/run/frr/<namespace>/*.log"
    )


def missing_routes(state: LabState) -> dict[str, list[str]]:
    """Per router, the loopbacks and originated prefixes not yet in its kernel FIB."""
    inv = state.inventory
    wanted = {f"{d.loopback}/32": d.name for d in inv.devices}
    wanted.update({p: dev for dev, prefixes in inv.prefixes.items() for p in prefixes})
    missing: dict[str, list[str]] = {}
    for name, router in state.routers.items():
        proc = run(["ip", "-n", router.ns, "-j", "route", "show"], check=False)
        have = {_route_key(r) for r in json.loads(proc.stdout or "[]")} if proc.returncode == 0 else set()
        have |= {f"{inv.device(name).loopback}/32"}
        lacking = sorted(p for p, owner in wanted.items() if owner != name and p not in have)
        if lacking:
            missing[name] = lacking
    return missing


def _route_key(row: dict[str, Any]) -> str:
    dst = str(row.get("dst", ""))
    return dst if "/" in dst else f"{dst}/32"


# --- kernel state ------------------------------------------------------------------------


def links(ns: str) -> list[dict[str, Any]]:
    proc = run(["ip", "-n", ns, "-j", "link", "show"], check=False)
    return json.loads(proc.stdout or "[]") if proc.returncode == 0 else []


def link(ns: str, ifname: str) -> dict[str, Any] | None:
    for row in links(ns):
        if row.get("ifname") == ifname:
            return row
    return None


def qdiscs(ns: str, stats: bool = False) -> list[dict[str, Any]]:
    argv = ["tc", "-n", ns, *(["-s"] if stats else []), "-j", "qdisc", "show"]
    proc = run(argv, check=False)
    return json.loads(proc.stdout or "[]") if proc.returncode == 0 else []


def route_dev(ns: str, destination: str) -> str:
    """The interface the kernel uses towards `destination` ('' if unroutable)."""
    proc = run(["ip", "-n", ns, "-j", "route", "get", destination], check=False)
    if proc.returncode != 0:
        return ""
    rows = json.loads(proc.stdout or "[]")
    return str(rows[0].get("dev", "")) if rows else ""


def nft_rules(ns: str) -> list[dict[str, Any]]:
    """Rules of the lab's ACL table in a namespace (empty if the table is absent)."""
    proc = run(["ip", "netns", "exec", ns, "nft", "-j", "list", "table", "inet", NFT_TABLE], check=False)
    if proc.returncode != 0:
        return []
    items = json.loads(proc.stdout or "{}").get("nftables", [])
    return [item["rule"] for item in items if "rule" in item]


def nft_drops(ns: str, ifname: str, prefix: str) -> bool:
    """Is there a rule dropping traffic to `prefix` on `ifname` (either direction)?"""
    for rule in nft_rules(ns):
        exprs = rule.get("expr", [])
        verdict_drop = any("drop" in e for e in exprs)
        on_iface = any(
            e.get("match", {}).get("right") == ifname
            and e["match"].get("left", {}).get("meta", {}).get("key") in ("iifname", "oifname")
            for e in exprs
        )
        if verdict_drop and on_iface and _matches_prefix(exprs, prefix):
            return True
    return False


def _matches_prefix(exprs: list[dict[str, Any]], prefix: str) -> bool:
    want_net, want_len = prefix.split("/")
    for e in exprs:
        m = e.get("match", {})
        if m.get("left", {}).get("payload", {}).get("field") != "daddr":
            continue
        right = m.get("right")
        if isinstance(right, dict) and "prefix" in right:
            net, length = right["prefix"].get("addr"), right["prefix"].get("len")
            if net == want_net and str(length) == want_len:
                return True
        elif right == want_net and want_len == "32":
            return True
    return False


def nft_text(ns: str) -> str:
    """The ACL table as text with counters removed (for hashing)."""
    proc = run(["ip", "netns", "exec", ns, "nft", "list", "table", "inet", NFT_TABLE], check=False)
    if proc.returncode != 0:
        return ""
    return re.sub(r"counter packets \d+ bytes \d+", "counter", proc.stdout)


def healthy_entities(state: LabState) -> set[str]:
    """Entities working right now, keyed like the twin's (`if:`, `bgp:`, `ospf:`): interfaces
    up with carrier, BGP sessions Established, OSPF adjacencies FULL. For the harness's
    collateral-damage check, read from the routers."""
    up: set[str] = set()
    for name, router in state.routers.items():
        wanted = {i.name for i in state.inventory.interfaces if i.device == name}
        for row in links(router.ns):
            flags = row.get("flags", [])
            if row.get("ifname") in wanted and "UP" in flags and "LOWER_UP" in flags:
                up.add(f"if:{name}|{row['ifname']}")
        up |= {f"bgp:{name}|{r['neighbor']}" for r in bgp_rows(router) if r["state"] == "Established"}
        up |= {f"ospf:{name}|{r['interface']}" for r in ospf_rows(router) if r["state"] == "FULL"}
    return up


def routing_view(state: LabState) -> tuple[bool, str]:
    """(converged, digest) in one pass over the routers, read in parallel.

    Converged as in `converged()`; the digest covers BGP session states, OSPF adjacency
    states and the kernel's route destinations, so equal digests a moment apart mean
    routing has gone quiet (see `routing_watch` for what is still due to happen).
    """
    converged, digest, _ = routing_watch(state)
    return converged, digest


def routing_watch(state: LabState) -> tuple[bool, str, float | None]:
    """`routing_view`, and the seconds until the soonest BGP start timer of a session that
    is down fires (None when no such timer runs).

    A BGP session that failed (an OPEN error such as Bad Peer AS, a hold timer expiry)
    waits in Idle for its start timer, which bgpd backs off with each failure: after a
    remote-as is corrected both ends can sit in Idle, nothing changing, for longer than a
    quiet spell, and then come up by themselves. bgpd reports the timer
    (`nextStartTimerDueInMsecs` in `show bgp neighbors json`), read only on routers with a
    session that is not Established.
    """
    from concurrent.futures import ThreadPoolExecutor

    inv = state.inventory
    wanted = {f"{d.loopback}/32": d.name for d in inv.devices}
    wanted.update({p: dev for dev, prefixes in inv.prefixes.items() for p in prefixes})

    def one(name: str) -> tuple[bool, list[str], float | None]:
        router = state.routers[name]
        bgp, ospf = bgp_rows(router), ospf_rows(router)
        proc = run(["ip", "-n", router.ns, "-j", "route", "show"], check=False)
        routes = {_route_key(r) for r in json.loads(proc.stdout or "[]")} if proc.returncode == 0 else set()
        want_bgp, want_ospf = expected_counts(state, name)
        ok = (
            sum(r["state"] == "Established" for r in bgp) >= want_bgp
            and sum(r["state"] == "FULL" for r in ospf) >= want_ospf
            and all(p in routes for p, owner in wanted.items() if owner != name)
        )
        parts = sorted(f"b{r['neighbor']}={r['state']}" for r in bgp)
        parts += sorted(f"o{r['interface']}/{r['neighbor_id']}={r['state']}" for r in ospf)
        down = {r["neighbor"] for r in bgp if r["state"] != "Established"}
        return ok, parts + sorted(routes), start_timer_due(router, down) if down else None

    names = list(state.routers)
    with ThreadPoolExecutor(max_workers=max(1, min(8, len(names)))) as pool:
        results = list(pool.map(one, names))
    digest = "|".join(f"{name}:{','.join(parts)}" for name, (_, parts, _) in zip(names, results, strict=True))
    dues = [due for _, _, due in results if due is not None]
    return all(ok for ok, _, _ in results), digest, min(dues) if dues else None


def start_timer_due(router: RouterState, neighbors: set[str]) -> float | None:
    """Seconds until the soonest start timer of these BGP neighbors fires (None if none runs)."""
    data = vtysh_json(router, "show bgp neighbors json")
    if not isinstance(data, dict):
        return None
    dues = [
        int(info["nextStartTimerDueInMsecs"]) / 1000.0
        for neighbor, info in data.items()
        if neighbor in neighbors and isinstance(info, dict) and "nextStartTimerDueInMsecs" in info
    ]
    return min(dues) if dues else None
