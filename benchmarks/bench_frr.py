"""Benchmark the FRR backend: bring-up time, time to detect / clear each fault, and the
agent's time to mitigate each fault type.

Run as root on a host with FRR (see README / .ci/run for the packages):

    PYTHONPATH=src python benchmarks/bench_frr.py [--profile small] [--repeat 1] [--json]
                                                  [--agent-repeat 1] [--no-agent]

For each fault type it injects the fault on a fixed target, measures how long the
symptom takes to show in the normalised tool output (detect), applies the catalog's
correct remote fix and measures how long until the cause is gone and the symptom
has cleared (clear). `link_failure` has no remote fix: its "clear" is the time to
recover after the cable is mended (a field repair).

Then the agent works the frr-smoke suite on the same lab, exactly as `netops-agent run
--backend frr` does through the case pipeline (inject, the incident, diagnose, fix,
validate on fresh output; the FRR backend repairs between cases): time to mitigate is wall time from the
agent picking the incident up to its validated fix; the escalated cut cable has none.
The lab is always torn down.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from netops_agent.errors import NetopsError
from netops_agent.evaluation.scenario import load_suite
from netops_agent.lab.frr import FrrFaultInjector, FrrLab, frr_inventory, missing_prerequisites, observe
from netops_agent.models import FaultSpec, InjectedFault, Inventory
from netops_agent.pipeline import FrrRunConfig, RunOptions, run_suite
from netops_agent.store import Store
from netops_agent.tools.frr_parsers import FRR_TOOLS

Check = Callable[[FrrLab], bool]
INTAKE = "telemetry"  # FRR's logs, netlink counters and pings through the shipped detection rules


def tool(lab: FrrLab, name: str, device: str, **params: Any) -> Any:
    build, parse = FRR_TOOLS[name]
    out = lab.execute(device, build(params))
    return parse(out, params) if out.ok else None


def bgp_up(device: str, peer: str) -> Check:
    def check(lab: FrrLab) -> bool:
        rows = tool(lab, "show_ip_bgp_summary", device) or []
        return any(r["neighbor"] == peer and r["state"] == "Established" for r in rows)

    return check


def ospf_full(device: str, interface: str) -> Check:
    def check(lab: FrrLab) -> bool:
        rows = tool(lab, "show_ip_ospf_neighbor", device) or []
        return any(r["interface"] == interface and r["state"] == "FULL" for r in rows)

    return check


def has_route(device: str, address: str) -> Check:
    return lambda lab: bool(tool(lab, "show_ip_route", device, prefix=address))


def answers(device: str, address: str) -> Check:
    return lambda lab: (tool(lab, "ping", device, destination=address, count=1) or {}).get("received") == 1


def congested(device: str, interface: str) -> Check:
    def check(lab: FrrLab) -> bool:
        rows = tool(lab, "show_interfaces", device, interface=interface) or []
        row = next((r for r in rows if r["interface"] == interface), None)
        return row is not None and row["output_rate_bps"] >= 0.9 * row["bandwidth_kbps"] * 1000

    return check


def negate(check: Check) -> Check:
    return lambda lab: not check(lab)


def ip_of(inv: Inventory, device: str, interface: str) -> str:
    itf = inv.interface(device, interface)
    assert itf is not None and itf.ip is not None
    return itf.ip


def cases(inv: Inventory) -> dict[str, tuple[dict[str, Any], Check]]:
    """Fault type -> (target, symptom check), on fixed ends that exist in every profile."""
    s1_leaf1 = ip_of(inv, "leaf1", "eth1")  # spine1's neighbour address for leaf1
    s1_edge = ip_of(inv, "edge1", "eth1")
    leaf2_s1, s1_leaf2 = ip_of(inv, "spine1", "eth2"), ip_of(inv, "leaf2", "eth1")
    leaf3_s2, s2_leaf3 = ip_of(inv, "spine2", "eth3"), ip_of(inv, "leaf3", "eth2")
    host2 = ip_of(inv, "leaf2", "Vlan100").rsplit(".", 1)[0] + ".10"
    return {
        "interface_admin_down": (
            {"device": "leaf1", "interface": "eth1"},
            negate(bgp_up("spine1", s1_leaf1)),
        ),
        "link_failure": ({"device": "edge1", "interface": "eth1"}, negate(bgp_up("spine1", s1_edge))),
        "bgp_neighbor_shutdown": ({"device": "leaf2", "peer": leaf2_s1}, negate(bgp_up("spine1", s1_leaf2))),
        "bgp_asn_mismatch": ({"device": "leaf3", "peer": leaf3_s2}, negate(bgp_up("spine2", s2_leaf3))),
        "mtu_mismatch": ({"device": "leaf2", "interface": "eth2"}, negate(ospf_full("spine2", "eth2"))),
        "ospf_timer_mismatch": (
            {"device": "leaf3", "interface": "eth1"},
            negate(ospf_full("spine1", "eth3")),
        ),
        "route_missing": ({"device": "edge1"}, negate(has_route("leaf1", "198.51.100.1"))),
        "acl_blocking": ({"device": "leaf2", "interface": "Vlan100"}, negate(answers("leaf1", host2))),
        "link_congestion": ({"device": "leaf1", "interface": "eth2"}, congested("leaf1", "eth2")),
    }


def wait(check: Callable[[], bool], timeout: float) -> float | None:
    """Seconds until `check()` holds (polling every 50 ms), or None on timeout."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if check():
            return round(time.monotonic() - start, 2)
        time.sleep(0.05)
    return None


def run_case(lab: FrrLab, fx: FrrFaultInjector, fault_type: str) -> dict[str, Any]:
    target, symptom = cases(lab.inventory())[fault_type]
    started = time.monotonic()
    fault = fx.inject(FaultSpec(type=fault_type, target=target), seed=1)
    inject_s = round(time.monotonic() - started, 2)
    try:
        detect_s = wait(lambda: symptom(lab), 20)
        fix = fx.reference_fix(fault)
        started = time.monotonic()
        if fix:
            for device, lines in fix:
                lab.configure(device, lines)
            action = "fix"
        else:
            fx.repair(fault)
            action = "field repair"
        clear_s = wait(lambda: not _present(fx, fault) and not symptom(lab), 30)
        return {"fault": fault_type, "inject_s": inject_s, "detect_s": detect_s,
                "action": action, "clear_s": clear_s}  # fmt: skip
    finally:
        if any(f.id == fault.id for f in fx.injected()):
            fx.repair(fault)
        wait(lambda: observe.converged(lab.state), 30)


def _present(fx: FrrFaultInjector, fault: InjectedFault) -> bool:
    return any(f.id == fault.id for f in fx.injected()) and fx.fault_present(fault)


def bench_agent(lab: FrrLab, profile: str, repeat: int) -> list[dict[str, Any]]:
    """The agent on frr-smoke (`run --backend frr`'s path), `repeat` times: one row per case."""
    suite = load_suite("frr-smoke")
    suite.topology.profile = profile
    rows: list[dict[str, Any]] = []
    for _ in range(repeat):
        with Store(":memory:") as store:
            started = time.monotonic()
            opts = RunOptions(intake=INTAKE, backend="frr")
            report = run_suite(store, suite, opts, frr=FrrRunConfig(lab=lab))
            wall = time.monotonic() - started
        for case in report.cases:
            for out in case.outcomes:
                rows.append({"fault": case.case.faults[0].type, "outcome": out.outcome,
                             "validated": out.validated, "ttm_s": out.time_to_mitigate_s,
                             "tool_calls": out.tool_calls, "suite_wall_s": round(wall, 2)})  # fmt: skip
    return rows


def bench(profile: str, repeat: int, agent_repeat: int = 1) -> dict[str, Any]:
    bringups: list[dict[str, float]] = []
    results: list[dict[str, Any]] = []
    agent: list[dict[str, Any]] = []
    for round_ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="nops-bench-") as tmp:
            runtime = Path(tmp) / "lab"
            try:
                lab = FrrLab.up(frr_inventory(profile=profile), runtime, prefix="nops-bench")
                bringups.append(lab.timings)
                if round_ == repeat - 1:
                    fx = FrrFaultInjector(lab)
                    results = [run_case(lab, fx, fault_type) for fault_type in cases(lab.inventory())]
                    if agent_repeat > 0:
                        agent = bench_agent(lab, profile, agent_repeat)
            finally:
                FrrLab.down(runtime)
    return {"profile": profile, "routers": len(frr_inventory(profile=profile).devices),
            "bringup": bringups, "faults": results, "agent": agent}  # fmt: skip


def print_table(result: dict[str, Any]) -> None:
    keys = ["network_s", "daemons_s", "config_s", "bgp_established_s", "ospf_full_s", "routes_s", "total_s"]
    print(f"FRR lab, profile {result['profile']} ({result['routers']} routers), "
          f"{len(result['bringup'])} bring-up(s); medians in seconds")  # fmt: skip
    for key in keys:
        values = [b[key] for b in result["bringup"] if key in b]
        print(f"  {key:<20} {statistics.median(values):6.2f}" if values else f"  {key:<20} -")
    print()
    print(f"  {'fault':<22} {'inject_s':>8} {'detect_s':>8}  {'action':<12} {'clear_s':>7}")
    for c in result["faults"]:
        detect, clear = _s(c["detect_s"]), _s(c["clear_s"])
        print(f"  {c['fault']:<22} {c['inject_s']:>8} {detect:>8}  {c['action']:<12} {clear:>7}")

    if not result.get("agent"):
        return
    print()
    runs = max(1, len(result["agent"]) // max(1, len({r["fault"] for r in result["agent"]})))
    print(f"  agent on frr-smoke ({runs} run(s)): time to mitigate = pickup -> validated fix, wall seconds")
    print(f"  {'fault':<22} {'outcome':<10} {'ttm_s':>7} {'min':>6} {'max':>6} {'tools':>5}")
    for fault in dict.fromkeys(r["fault"] for r in result["agent"]):
        rows = [r for r in result["agent"] if r["fault"] == fault]
        times = [r["ttm_s"] for r in rows if r["ttm_s"] is not None]
        outcome = "/".join(sorted({r["outcome"] for r in rows}))
        tools = statistics.median(r["tool_calls"] for r in rows)
        if times:
            print(f"  {fault:<22} {outcome:<10} {statistics.median(times):7.2f} {min(times):6.2f} "
                  f"{max(times):6.2f} {tools:5.0f}")  # fmt: skip
        else:
            print(f"  {fault:<22} {outcome:<10} {'-':>7} {'-':>6} {'-':>6} {tools:5.0f}")
    walls = sorted({r["suite_wall_s"] for r in result["agent"]})
    print(
        f"  suite wall time (9 cases incl. inject, settle, repair): {', '.join(f'{w:.1f}' for w in walls)} s"
    )


def _s(value: float | None) -> str:
    return "timeout" if value is None else f"{value:.2f}"


def main() -> int:
    logging.getLogger("netops_agent").addHandler(logging.NullHandler())  # tables only, no log lines
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="small", choices=["small", "medium", "large"])
    parser.add_argument("--repeat", type=int, default=1, help="bring-ups to measure (faults run once)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--agent-repeat", type=int, default=1, help="agent runs over frr-smoke")
    parser.add_argument("--no-agent", action="store_true", help="skip the agent's time to mitigate")
    args = parser.parse_args()
    missing = missing_prerequisites()
    if missing:
        print("cannot benchmark the FRR backend; missing:\n  - " + "\n  - ".join(missing), file=sys.stderr)
        return 2
    try:
        result = bench(args.profile, max(1, args.repeat), 0 if args.no_agent else max(1, args.agent_repeat))
    except NetopsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_table(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
