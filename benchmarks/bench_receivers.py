"""Load and loss of the receivers: syslog bursts and Alertmanager resends into `serve`.

    python benchmarks/bench_receivers.py [--syslog 10000] [--alerts 2000] [--resends 2] [--storm 10000]

Starts `netops-agent serve` (a whole process) on a fresh small lab database with a
syslog port, then, all on loopback:
- sends `--syslog` messages in bursts of 1,000, half over UDP and half over TCP,
  each with a unique sequence number;
- posts `--alerts` Alertmanager alerts in notifications of 100, each notification
  `--resends` more times (Alertmanager resends), timing every POST (the answer comes
  after the alerts are committed);
- then a storm: `--storm` more alerts, each on its own interface (so one correlation
  cycle opens that many incidents and tickets), and, until two more cycles have run,
  a steady probe of POSTs of 10 new alerts, each timed: what a POST that arrives during
  a storm's cycle waits;
then stops `serve` (which stores what is queued and runs a last cycle) and counts
in DuckDB: every syslog message stored exactly once, every alert exactly one row, every
alert linked to an incident that has a ticket.
Prints throughput, POST p50/p99 and loss/duplicates.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

EXE = shutil.which("netops-agent", path=str(Path(sys.executable).parent)) or "netops-agent"


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())


def post(url: str, body: dict) -> float:
    data = json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    t = time.perf_counter()
    with urllib.request.urlopen(req, timeout=60) as r:
        r.read()
    return time.perf_counter() - t


def notification(name: str, device: str, port: str, tag: str, ns: range, hour: str) -> dict:
    """An Alertmanager webhook body: one firing alert `name` per n in `ns`, on `device`'s
    interface `port`/n, fingerprinted `tag` + n, started at `hour`:00 on 30 November."""
    alerts = [
        {"status": "firing", "annotations": {}, "startsAt": f"2026-11-30T{hour}:00:00Z",
         "labels": {"alertname": name, "device": device, "ifName": f"{port}/{n}"},
         "fingerprint": f"{tag}{n:06d}"}
        for n in ns
    ]  # fmt: skip
    return {"version": "4", "status": "firing", "alerts": alerts}


def wait_up(url: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"serve exited: {proc.stderr.read() if proc.stderr else ''}")
        try:
            get(url)
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("serve did not come up")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--syslog", type=int, default=10_000)
    ap.add_argument("--alerts", type=int, default=2_000)
    ap.add_argument("--resends", type=int, default=2)
    ap.add_argument("--storm", type=int, default=10_000)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-rx-"))
    db = tmp / "netops.duckdb"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NETOPS_")}
    subprocess.run([EXE, "lab", "up", "--profile", "small", "--db", str(db)], check=True, env=env,
                   capture_output=True)  # fmt: skip
    http, sys_port = free_port(), free_port(socket.SOCK_DGRAM)
    proc = subprocess.Popen(
        [EXE, "serve", "--db", str(db), "--port", str(http), "--syslog-port", str(sys_port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{http}"
    try:
        wait_up(f"{base}/api/v1/intake/stats", proc)
        t0 = time.perf_counter()
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        tcp = socket.create_connection(("127.0.0.1", sys_port))
        for start in range(0, args.syslog, 1000):
            for i in range(start, min(start + 1000, args.syslog)):
                line = f"<187>{i}: site1-leaf1: %SYS-4-BENCH: message {i} of the burst"
                if i % 2:
                    tcp.sendall(line.encode() + b"\n")
                else:
                    udp.sendto(line.encode(), ("127.0.0.1", sys_port))
            time.sleep(0.05)  # bursts, not one stream
        tcp.close()
        sent_s = time.perf_counter() - t0
        deadline = time.monotonic() + 120
        stats_url = f"{base}/api/v1/intake/stats"
        while get(stats_url)["events_stored"] < args.syslog and time.monotonic() < deadline:
            time.sleep(0.05)
        syslog_s = time.perf_counter() - t0
        latencies = []
        url = f"{base}/api/v1/intake/alertmanager"
        for g in range(0, args.alerts, 100):
            body = notification(
                "Bench", "site1-leaf2", "Gi0", "fp", range(g, min(g + 100, args.alerts)), "10"
            )
            for _ in range(1 + args.resends):
                latencies.append(post(url, body))
        storm = []
        for g in range(0, args.storm, 1000):
            post(
                url,
                notification("Storm", "site1-leaf3", "Gi1", "st", range(g, min(g + 1000, args.storm)), "11"),
            )
        cycles = get(stats_url)["cycles"]
        probe, n = 0, 0
        while get(stats_url)["cycles"] < cycles + 2 and time.monotonic() < deadline + 300:
            storm.append(post(url, notification("Probe", "site1-leaf4", "Gi2", "pr", range(n, n + 10), "12")))
            n += 10
            probe += 1
        stats = get(f"{base}/api/v1/intake/stats")
    finally:
        proc.terminate()
        proc.wait(30)
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    stored, distinct = con.execute(
        "SELECT count(*), count(DISTINCT message) FROM events WHERE mnemonic = 'BENCH'"
    ).fetchone()
    am_rows, am_distinct = con.execute(
        "SELECT count(*), count(DISTINCT fingerprint) FROM alerts WHERE fingerprint LIKE 'am:fp%'"
    ).fetchone()
    all_rows, all_distinct = con.execute(
        "SELECT count(*), count(DISTINCT fingerprint) FROM alerts WHERE source = 'alertmanager'"
    ).fetchone()
    total = args.alerts + args.storm + 10 * probe
    unlinked, no_ticket, incidents = con.execute(
        "SELECT (SELECT count(*) FROM alerts WHERE source = 'alertmanager' AND (incident_id IS NULL "
        "OR incident_id NOT IN (SELECT id FROM incidents))), (SELECT count(*) FROM incidents i WHERE "
        "NOT EXISTS (SELECT 1 FROM tickets t WHERE t.incident_id = i.id)), (SELECT count(*) FROM incidents)"
    ).fetchone()
    con.close()
    lat = sorted(latencies)
    p99 = lat[min(len(lat) - 1, int(0.99 * len(lat)))]
    print(f"syslog: sent {args.syslog} in {sent_s:.2f} s; stored {stored} ({distinct} distinct): "
          f"lost {args.syslog - distinct}, duplicates {stored - distinct}; "
          f"all stored {syslog_s:.2f} s after the first was sent "
          f"({args.syslog / syslog_s:,.0f} msg/s)")  # fmt: skip
    print(f"alertmanager: {len(latencies)} POSTs of 100 alerts ({args.resends} resends each): "
          f"p50 {statistics.median(lat) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms; rows {am_rows} for "
          f"{args.alerts} alerts ({am_distinct} distinct): lost {args.alerts - am_distinct}, "
          f"duplicates {am_rows - am_distinct}")  # fmt: skip
    st = sorted(storm) or [0.0]
    print(f"storm: {args.storm} alerts on as many interfaces, then {len(st)} probe POSTs of 10 during "
          f"its cycles: p50 {statistics.median(st) * 1000:.1f} ms, p99 "
          f"{st[min(len(st) - 1, int(0.99 * len(st)))] * 1000:.1f} ms, max {st[-1] * 1000:.1f} ms; "
          f"{all_rows} alert rows for {total} sent: lost {total - all_distinct}, duplicates "
          f"{all_rows - all_distinct}; {incidents} incidents, {unlinked} alerts unlinked, "
          f"{no_ticket} incidents without a ticket")  # fmt: skip
    print(f"receiver stats: {json.dumps(stats)}")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
