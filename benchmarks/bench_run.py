"""Time `netops-agent run` (the default demo) end to end, as a user runs it.

    python benchmarks/bench_run.py [--repeat 7]

Runs the installed command in a temporary directory and prints the median and
spread of the wall time (process start to exit) and of the in-process `wall_s`
the command reports.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--scenario", default="demo")
    args = ap.parse_args()
    exe = shutil.which("netops-agent", path=str(Path(sys.executable).parent)) or "netops-agent"
    walls, inner = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            out = subprocess.run([exe, "run", "--scenario", args.scenario, "--json"], cwd=tmp,
                                 capture_output=True, text=True, check=True)
            walls.append(time.perf_counter() - t0)
            inner.append(json.loads(out.stdout)["summary"]["wall_s"])
    n = json.loads(out.stdout)["summary"]["incidents"]
    print(f"netops-agent run --scenario {args.scenario}: {n} incidents, {args.repeat} runs")
    print(f"  process wall time: median {statistics.median(walls):.2f} s "
          f"(min {min(walls):.2f}, max {max(walls):.2f})")
    print(f"  in-process run:    median {statistics.median(inner):.2f} s "
          f"(min {min(inner):.2f}, max {max(inner):.2f})")


if __name__ == "__main__":
    main()
