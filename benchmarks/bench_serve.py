"""Startup and API latency of `netops-agent serve`: first page, incident list and one incident.

    python benchmarks/bench_serve.py [--requests 300] [--bulk 10000] [--startup 5] [--db DEMO.duckdb]
    python benchmarks/bench_serve.py --requests 0 --startup 11 [--baseline OTHER/src]

Fills a database with the real demo (`netops-agent run`, or --db to reuse one), then
a copy with BULK more incidents (each with a ticket, three alerts and two ticket
events, appended through Arrow in one transaction). For each database it starts
`netops-agent serve` as a process on a free loopback port and times sequential HTTP
requests from this process (client time: connect, request, full response body):

- `GET /api/v1/incidents` (the API's default page of 100) and the dashboard overview `/`
- `GET /api/v1/incidents/ID` and the incident page `/incidents/ID` for random ids, and
  the page's before/after plots (`/incidents/ID/plots`, loaded by htmx after the page)
- the incident page again after a second without requests (`--idle N` of them): by then
  the service has let go of the file (so another process may write it) and reopens it

Startup (`--startup N` runs on the demo's database): the time from starting the
`netops-agent serve` process to the first 200 of the overview `/` that lists the demo's
first incident, polled every 10 ms as a newcomer's browser would retry; with the CPU
time the process used until then (what the wall time would be on an idle machine).

`--requests 0` times the startup alone. `--baseline OTHER/src` also starts another
checkout's sources (e.g. a worktree of `main`), alternating with this one, so both see
the same load: a before/after on a busy machine.

Every `serve` process finds the modules' compiled bytecode (.pyc) in the benchmark's own
cache (PYTHONPYCACHEPREFIX; PYTHONDONTWRITEBYTECODE is dropped), filled by one untimed
start per checkout, as on any machine where netops-agent ran before; `--no-bytecode`
makes every process compile the sources again (a checkout that never ran).

Every section prints the machine's load average next to its numbers: on a shared
machine the p99 and the startup wall time follow the load, not the code.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pyarrow as pa

EXE = shutil.which("netops-agent", path=str(Path(sys.executable).parent)) or "netops-agent"
SRC = Path(__file__).resolve().parent.parent / "src"
_PYC = tempfile.mkdtemp(prefix="bench-serve-pyc-")
atexit.register(shutil.rmtree, _PYC, True)
BYTECODE = [True]  # --no-bytecode: every process compiles the sources (no .pyc kept)


def env(src: Path = SRC) -> dict[str, str]:
    """The environment of a `serve` process running `src`'s netops_agent."""
    out = dict(os.environ)
    out["PYTHONPATH"] = os.pathsep.join([str(src), out.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    if BYTECODE[0]:
        out.pop("PYTHONDONTWRITEBYTECODE", None)
        out["PYTHONPYCACHEPREFIX"] = _PYC  # the checkouts stay untouched
    else:
        out["PYTHONDONTWRITEBYTECODE"] = "1"
    return out


def add_incidents(db: Path, n: int) -> None:
    """BULK synthetic incidents (ids after the demo's), with tickets, alerts and events."""
    from netops_agent.store import Store

    with Store(db) as store:
        first = int(store.scalar("SELECT count(*) FROM incidents")) + 1
        devices = [r["name"] for r in store.query("SELECT name FROM devices ORDER BY name")]
        ids = [f"IM-{i:05d}" for i in range(first, first + n)]
        tickets = [f"INC{i:07d}" for i in range(first, first + n)]
        t0 = datetime(2026, 1, 6, 8, 0, 0)
        ts = [t0 + timedelta(seconds=30 * i) for i in range(n)]
        dev = [devices[i % len(devices)] for i in range(n)]
        sev = [("low", "medium", "high", "critical")[i % 4] for i in range(n)]
        state = [("resolved", "escalated", "closed", "resolved", "in_progress")[i % 5] for i in range(n)]
        suspects = [
            json.dumps([{"kind": "interface", "device": d, "interface": "GigabitEthernet0/0", "score": 1.0}])
            for d in dev
        ]
        with store.transaction():
            store.append_arrow(
                "incidents",
                pa.table(
                    {
                        "id": ids,
                        "title": [f"Interface errors on {d} GigabitEthernet0/0" for d in dev],
                        "summary": [f"input errors rising on {d} GigabitEthernet0/0" for d in dev],
                        "severity": sev,
                        "device": dev,
                        "interface": ["GigabitEthernet0/0"] * n,
                        "peer": pa.nulls(n, pa.string()),
                        "suspects": suspects,
                        "alerts": pa.array([3] * n, pa.int32()),
                        "status": ["open"] * n,
                        "opened_at": ts,
                    }
                ),
            )
            store.append_arrow(
                "tickets",
                pa.table(
                    {
                        "id": tickets,
                        "incident_id": ids,
                        "state": state,
                        "severity": sev,
                        "assignment_group": ["network-operations"] * n,
                        "short_description": [f"Interface errors on {d}" for d in dev],
                        "created_at": ts,
                        "updated_at": ts,
                    }
                ),
            )
            k = 3 * n
            store.append_arrow(
                "alerts",
                pa.table(
                    {
                        "id": [f"AL-B{i:06d}" for i in range(k)],
                        "fingerprint": [f"bulk-{i}" for i in range(k)],
                        "source": ["threshold"] * k,
                        "device": [dev[i // 3] for i in range(k)],
                        "entity": ["GigabitEthernet0/0"] * k,
                        "check_name": ["input-errors"] * k,
                        "severity": ["minor"] * k,
                        "state": ["cleared"] * k,
                        "count": pa.array([4] * k, pa.int32()),
                        "first_seen": [ts[i // 3] for i in range(k)],
                        "last_seen": [ts[i // 3] for i in range(k)],
                        "message": ["input errors rising"] * k,
                        "incident_id": [ids[i // 3] for i in range(k)],
                        "scope": ["bulk"] * k,
                        "kind": ["interface"] * k,
                    }
                ),
            )
            store.append_arrow(
                "ticket_events",
                pa.table(
                    {
                        "ticket_id": [t for t in tickets for _ in range(2)],
                        "ts": [x for x in ts for _ in range(2)],
                        "kind": ["opened", "transition"] * n,
                        "from_state": [None, "new"] * n,
                        "to_state": [s for st in state for s in ("new", st)],
                        "note": ["opened", "worked"] * n,
                        "author": ["netops-agent"] * (2 * n),
                    }
                ),
            )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} CPUs"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def startup(db: Path, first_id: str, src: Path = SRC) -> tuple[float, float]:
    """Seconds from process start to the first 200 of `/` listing `first_id`, and the CPU
    seconds the server used until then."""
    port = free_port()
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [EXE, "serve", "--db", str(db), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env(src),
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as c:
            while True:
                try:
                    r = c.get("/")
                    if r.status_code == 200 and first_id in r.text:
                        return time.perf_counter() - t0, cpu_seconds(proc.pid)
                except httpx.TransportError:
                    pass
                if proc.poll() is not None or time.perf_counter() - t0 > 60:
                    raise SystemExit(
                        f"serve did not start: {proc.stderr.read().decode() if proc.stderr else ''}"
                    )
                time.sleep(0.01)
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


def measure(db: Path, requests: int, ids: list[str], idle: int = 0) -> dict[str, tuple[float, float]]:
    port = free_port()
    proc = subprocess.Popen(
        [EXE, "serve", "--db", str(db), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env(),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=url, timeout=30) as c:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if c.get("/api/v1/incidents/count").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise SystemExit(
                        f"serve did not start: {proc.stderr.read().decode() if proc.stderr else ''}"
                    )
                time.sleep(0.2)
            rnd = random.Random(1)
            targets = {
                "GET /api/v1/incidents": lambda: "/api/v1/incidents",
                "GET / (overview page)": lambda: "/",
                "GET /api/v1/incidents/ID": lambda: f"/api/v1/incidents/{rnd.choice(ids)}",
                "GET /incidents/ID (page)": lambda: f"/incidents/{rnd.choice(ids)}",
                "GET /incidents/ID/plots": lambda: f"/incidents/{rnd.choice(ids)}/plots",
            }
            out = {}
            for name, path in targets.items():
                for _ in range(10):  # warm-up
                    c.get(path()).raise_for_status()
                times = []
                for _ in range(requests):
                    p = path()
                    t0 = time.perf_counter()
                    c.get(p).raise_for_status()
                    times.append((time.perf_counter() - t0) * 1000)
                out[name] = (statistics.median(times), pct(times, 99))
            times = []
            for _ in range(idle):
                time.sleep(1.0)  # longer than serve's 0.5 s hold: the read connection is closed
                t0 = time.perf_counter()
                c.get(f"/incidents/{rnd.choice(ids)}").raise_for_status()
                times.append((time.perf_counter() - t0) * 1000)
            if times:
                out["GET /incidents/ID after 1 s idle"] = (statistics.median(times), max(times))
            return out
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def startups(demo: Path, n: int, baseline: Path | None) -> None:
    """N timed starts (alternating with `baseline`'s when given), after one untimed start each."""
    srcs = {"this checkout": SRC}
    if baseline is not None:
        srcs[f"baseline {baseline}"] = baseline
    for src in srcs.values():
        startup(demo, "IM-0001", src)  # fills the bytecode cache (unless --no-bytecode)
    print(f"startup to the first page ({load()}):")
    runs: dict[str, list[tuple[float, float]]] = {k: [] for k in srcs}
    for _ in range(n):
        for name, src in srcs.items():
            runs[name].append(startup(demo, "IM-0001", src))
    for name, rs in runs.items():
        walls, cpus = [w * 1000 for w, _ in rs], [c * 1000 for _, c in rs]
        print(
            f"  {name}: `netops-agent serve` -> first 200 of /: median {statistics.median(walls):.0f} ms "
            f"(runs {', '.join(f'{w:.0f}' for w in walls)}); CPU used by then: median "
            f"{statistics.median(cpus):.0f} ms (min {min(cpus):.0f})"
        )
    print(f"  ({load()})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=300, help="requests per endpoint (0: startup only)")
    ap.add_argument("--bulk", type=int, default=10_000)
    ap.add_argument("--startup", type=int, default=5, help="process starts to time (0: none)")
    ap.add_argument("--idle", type=int, default=20, help="incident pages after 1 s idle (max, not p99)")
    ap.add_argument("--db", type=Path, help="a database filled by `netops-agent run` (default: run it now)")
    ap.add_argument("--baseline", type=Path, help="another checkout's src/ to start alternately (startup)")
    ap.add_argument("--no-bytecode", action="store_true", help="compile the sources in every process")
    args = ap.parse_args()
    BYTECODE[0] = not args.no_bytecode
    with tempfile.TemporaryDirectory() as tmp:
        demo = Path(tmp) / "demo.duckdb"
        if args.db:
            shutil.copyfile(args.db, demo)
        else:
            run = [EXE, "run", "--db", str(demo)]
            subprocess.run(run, cwd=tmp, env=env(), check=True, capture_output=True)
        if args.startup:
            startups(demo, args.startup, args.baseline)
        if not args.requests:
            return
        big = Path(tmp) / "big.duckdb"
        shutil.copyfile(demo, big)
        t0 = time.perf_counter()
        add_incidents(big, args.bulk)
        print(
            f"added {args.bulk:,} incidents (+tickets, alerts, events) via Arrow "
            f"in {time.perf_counter() - t0:.2f} s"
        )
        demo_ids = [f"IM-{i:04d}" for i in range(1, 16)]
        big_ids = demo_ids + [f"IM-{i:05d}" for i in range(16, 16 + args.bulk)]
        for label, db, ids in (
            ("demo (15 incidents)", demo, demo_ids),
            (f"{15 + args.bulk:,} incidents", big, big_ids),
        ):
            print(f"{label}: {args.requests} sequential requests each, client-side ms ({load()})")
            for name, (p50, p99) in measure(db, args.requests, ids, args.idle).items():
                tail = "max" if "idle" in name else "p99"
                print(f"  {name:<32} p50 {p50:6.1f}  {tail} {p99:6.1f}")
            print(f"  ({load()})")


if __name__ == "__main__":
    main()
