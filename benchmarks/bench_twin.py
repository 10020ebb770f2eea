"""The twin's own costs on one profile, in process, CPU seconds (best of --repeat).

    python benchmarks/bench_twin.py [--profile large] [--repeat 3]
    PYTHONPATH=/other/checkout/src python benchmarks/bench_twin.py   # the same on another checkout

Times: building the twin (topology + first derive), one re-derivation, a commit (derive,
syslog diff, routing and rates afresh), and a monitoring probe sweep (every loopback and
one host per prefix, pinged from the vantages through the twin's CLI, as the intake's
poller does) on a fresh routing view, then the same sweep again with the paths memoised.
It also prints a digest of the sweep's results, so two checkouts can be compared for
identical answers as well as speed.
"""

from __future__ import annotations

import argparse
import hashlib
import time
from collections.abc import Callable
from typing import Any


def best(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default="large")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    from netops_agent.intake import probes
    from netops_agent.intake.config import Probes
    from netops_agent.lab.sim.control import SimControl
    from netops_agent.lab.sim.lab import SimLab
    from netops_agent.lab.sim.state import derive
    from netops_agent.models import FaultSpec

    lab = SimLab.build(args.profile, 42)  # warm: addresses parsed, modules loaded
    rows = {"build (topology + first derive)": best(lambda: SimLab.build(args.profile, 42), args.repeat)}
    rows["derive"] = best(lambda: derive(lab.inv, lab.configs, lab.cond), args.repeat)

    def commit() -> None:
        lab.commit()
        _ = lab.routing, lab.rates

    rows["commit (+ routing, rates)"] = best(commit, args.repeat)
    ctl = SimControl(lab)
    ctl.inject_all([FaultSpec(type="bgp_neighbor_shutdown", target="auto")], seed=3)
    view, cfg, inv = ctl.view(), Probes(liveness="all"), lab.inv
    digest = ""

    def sweep() -> None:
        nonlocal digest
        rnd = probes.ProbeRound(view.now())
        with view.concurrent():
            probes._sweep(probes.Prober(view, cfg), rnd, inv, cfg, None, inv.vantages(), view, "lab")
        digest = hashlib.sha256(repr([(r["target"], r["vantage"], r["status"]) for r in rnd.rows]).encode())
        digest = f"{len(rnd.rows)} targets, digest {digest.hexdigest()[:12]}"

    def fresh_sweep() -> None:
        lab._cache.pop("routing", None)
        sweep()

    rows["probe sweep, fresh routing"] = best(fresh_sweep, args.repeat)
    rows["probe sweep, paths memoised"] = best(sweep, args.repeat)
    print(f"twin, profile {args.profile} ({len(inv.devices)} routers), CPU s, best of {args.repeat}:")
    for name, secs in rows.items():
        print(f"  {name:<34} {secs:7.3f}")
    print(f"  sweep: {digest}")


if __name__ == "__main__":
    main()
