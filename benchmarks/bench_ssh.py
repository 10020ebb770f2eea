"""Cost of the SSH transport: `eval --suite smoke` over SSH vs in process, and per command.

    python benchmarks/bench_ssh.py [--suite smoke] [--repeat 3] [--commands 50]

1. Runs the installed `netops-agent eval --suite S --json` in a temporary directory
   with `--transport inprocess` and `--transport ssh`, `--repeat` times each, and
   prints the median process wall time of each, their ratio, and (from the log's
   "ssh transport:" lines) SSH sessions opened and commands sent per case.
2. Serves a small twin over SSH in this process and times `--commands` round trips of
   `show ip interface brief` with scrapli (the agent's transport) and with Netmiko,
   after login, plus the login itself: why the agent's transport is scrapli.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LINE = re.compile(r"ssh transport: (\d+) sessions opened, (\d+) commands")


def eval_once(exe: str, cwd: Path, suite: str, transport: str) -> tuple[float, dict, list[tuple[int, int]]]:
    log = cwd / f"{transport}.log"
    log.unlink(missing_ok=True)
    t0 = time.perf_counter()
    out = subprocess.run(
        [exe, "eval", "--suite", suite, "--json", "--transport", transport, "--log", str(log)],
        cwd=cwd, capture_output=True, text=True, check=True,
    )  # fmt: skip
    wall = time.perf_counter() - t0
    per_case = [(int(a), int(b)) for a, b in LINE.findall(log.read_text())]
    return wall, json.loads(out.stdout), per_case


def per_command(n: int) -> dict[str, float]:
    from netmiko import ConnectHandler
    from scrapli.driver.core import IOSXEDriver

    from netops_agent.lab.sim.lab import SimLab
    from netops_agent.lab.sim.ssh_server import Credentials, serve_lab

    lab = SimLab.build("small", 42)
    server = serve_lab(lab, Credentials("bench", "bench-pw"))
    port = server.server.ports["site1-leaf1"]
    res: dict[str, float] = {}
    try:
        t0 = time.perf_counter()
        s = IOSXEDriver(host="127.0.0.1", port=port, auth_username="bench", auth_password="bench-pw",
                        auth_secondary="bench-pw", auth_strict_key=False, transport="paramiko",
                        ssh_config_file=False)  # fmt: skip
        s.open()
        res["scrapli_login_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        for _ in range(n):
            s.send_command("show ip interface brief")
        res["scrapli_ms_per_command"] = (time.perf_counter() - t0) / n * 1000
        s.close()
        t0 = time.perf_counter()
        m = ConnectHandler(device_type="cisco_ios", host="127.0.0.1", port=port, username="bench",
                           password="bench-pw", secret="bench-pw")  # fmt: skip
        m.enable()
        res["netmiko_login_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        for _ in range(n):
            m.send_command("show ip interface brief")
        res["netmiko_ms_per_command"] = (time.perf_counter() - t0) / n * 1000
        m.disconnect()
    finally:
        server.stop()
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", default="smoke")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--commands", type=int, default=50)
    args = ap.parse_args()
    exe = shutil.which("netops-agent", path=str(Path(sys.executable).parent)) or "netops-agent"
    walls: dict[str, list[float]] = {"inprocess": [], "ssh": []}
    outcomes: dict[str, list] = {}
    sessions: list[tuple[int, int]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeat):
            for transport in walls:
                wall, data, per_case = eval_once(exe, Path(tmp), args.suite, transport)
                walls[transport].append(wall)
                outcomes[transport] = data["per_case"]
                if transport == "ssh":
                    sessions = per_case
    med = {t: statistics.median(w) for t, w in walls.items()}
    cases = len(sessions) or 1
    print(f"netops-agent eval --suite {args.suite} ({args.repeat} runs each, process wall time, median)")
    print(f"  in process   {med['inprocess']:.2f} s")
    print(f"  over SSH     {med['ssh']:.2f} s   ratio {med['ssh'] / med['inprocess']:.2f}x")
    print(f"  same per-case outcomes: {outcomes['inprocess'] == outcomes['ssh']}")
    print(f"  SSH sessions opened per case: {[s for s, _ in sessions]} "
          f"(mean {sum(s for s, _ in sessions) / cases:.1f}); "
          f"commands per case: {[c for _, c in sessions]}")  # fmt: skip
    for key, value in per_command(args.commands).items():
        print(f"  {key:24s} {value:8.2f}")


if __name__ == "__main__":
    main()
