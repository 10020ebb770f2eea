"""How long `netops-agent eval` takes to stop on Ctrl-C, and what it says (whole processes).

    python benchmarks/bench_stop.py [--repeat 3] [--jobs 2] [--suite catalog]

Each repetition starts `netops-agent eval --suite SUITE --jobs N` in a fresh directory
(this checkout's `src/` first on PYTHONPATH), waits until the database holds one stored
case (polled read-only), sends SIGINT and measures the wall time until the process has
exited. Prints each time, the median and the last stderr line (what was kept and how to
resume). The issue's bar is 2 s; tests never assert time, this script measures it.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

SRC = Path(__file__).resolve().parents[1] / "src"


def _stored(db: Path) -> int:
    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error:
        return -1
    try:
        return int(con.execute("SELECT count(*) FROM eval_cases").fetchone()[0])
    except duckdb.Error:
        return -1
    finally:
        con.close()


def once(suite: str, jobs: int) -> tuple[float, str]:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "e.duckdb"
        env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
        cmd = [sys.executable, "-m", "netops_agent.cli.app", "eval", "--suite", suite, "--jobs", str(jobs)]
        proc = subprocess.Popen(
            [*cmd, "--db", str(db)], cwd=tmp, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        while _stored(db) < 1:
            if proc.poll() is not None:
                raise SystemExit(f"eval ended before a case was stored: {proc.stderr.read().decode()}")
            time.sleep(0.05)
        t0 = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate()
        took = time.perf_counter() - t0
        last = (err.decode(errors="replace").strip().splitlines() or [""])[-1]
        return took, last


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--suite", default="catalog")
    args = ap.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    times = []
    for _ in range(args.repeat):
        took, last = once(args.suite, args.jobs)
        times.append(took)
        print(f"stopped in {took:.2f} s: {last}")
    print(f"median {statistics.median(times):.2f} s over {len(times)} (jobs {args.jobs}, suite {args.suite})")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
