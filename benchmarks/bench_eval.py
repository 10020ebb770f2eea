"""Time `netops-agent eval` on a suite (default: catalog) as a user runs it.

    python benchmarks/bench_eval.py [--suite catalog] [--jobs 1 2] [--agent default] [--repeat 3]

Runs the installed command in a temporary directory for each --jobs value and
prints the median process wall time (start to exit, imports included), the
in-process `wall_s` the command reports, and the headline metrics. Aim: the
catalog suite under a minute on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run_once(exe: str, cwd: str, suite: str, agent: str, jobs: int) -> tuple[float, dict]:
    t0 = time.perf_counter()
    out = subprocess.run(
        [exe, "eval", "--suite", suite, "--agent", agent, "--jobs", str(jobs), "--json"],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return time.perf_counter() - t0, json.loads(out.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", default="catalog")
    ap.add_argument("--agent", default="default")
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    exe = shutil.which("netops-agent", path=str(Path(sys.executable).parent)) or "netops-agent"
    print(
        f"netops-agent eval --suite {args.suite} --agent {args.agent}  ({os.cpu_count()} CPUs, "
        f"{args.repeat} runs each)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for jobs in args.jobs:
            walls, inner, data = [], [], {}
            for _ in range(args.repeat):
                wall, data = run_once(exe, tmp, args.suite, args.agent, jobs)
                walls.append(wall)
                inner.append(data["metrics"]["wall_s"])
            m = data["metrics"]
            print(
                f"  --jobs {jobs}: process median {statistics.median(walls):.1f} s "
                f"(min {min(walls):.1f}, max {max(walls):.1f}); in-process median "
                f"{statistics.median(inner):.1f} s; {data['cases']} cases"
            )
        print(
            f"  metrics: rca {m['rca_accuracy']:.3f}, mitigation {m['mitigation_success']:.3f}, "
            f"false resolutions {m['false_resolutions']}, unsafe {m['unsafe_actions']}, "
            f"mean tool calls {m['mean_tool_calls']:.1f}"
        )


if __name__ == "__main__":
    main()
