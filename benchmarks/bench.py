"""Whole-process benchmarks of netops-agent, paired in one run, and where the time goes.

    python benchmarks/bench.py [--repeat 5] [--only help,run,...] [--baseline SRC] [--json]
    python benchmarks/bench.py --split [run|large|eval] [--repeat 3]

Default mode: every command below runs as its own process (`python -m
netops_agent.cli.app` with this checkout's `src/` first on PYTHONPATH), round-robin
so each repetition of each command sees the same machine load. Prints per command
the median wall time over --repeat runs, its spread, the median CPU time (user +
system: less sensitive than wall time to other load on the machine), the median peak
RSS (the child's ru_maxrss, via os.wait4), and the ratio to the floor (`python -c
"import duckdb"`: an interpreter that loads the database and nothing of ours). The
load average before and after is printed, as the numbers only compare with others
taken on a machine as busy.

    floor   python -c "import duckdb"
    help    netops-agent --help
    run     netops-agent run --json                 (the default demo, 48 routers, 15 faults)
    cold    the same with no index cache (NETOPS_CACHE=off): a first run after install
    fit     the same with runbooks of one's own (the shipped ones, one title reworded) and
            no index cache: the first run over changed runbooks fits the index
    rerun   the same in a directory where it already ran (the runbook index is kept)
    large   netops-agent run --scenario benchmarks/large-case.yaml --json  (500 routers, 1 fault)
    eval    netops-agent eval --suite catalog --json (default --jobs: the machine's cores)

Every command but `rerun` runs in its own temporary directory, created fresh for each
run, so each `run` starts on an empty database; it loads the fitted runbook index from
the benchmark's own cache directory (warmed by the first run, as on any machine where
netops-agent ran before); `cold` has no cache and reads the fit shipped with the
shipped runbooks, as the very first run does, and `fit` fits a changed copy of them
(TF-IDF, scikit-learn), as the first run over one's own runbooks does. `rerun` runs
where a run already left its database, as every later run does.
Every process finds the modules' compiled bytecode (.pyc) in the benchmark's own cache
(PYTHONPYCACHEPREFIX; PYTHONDONTWRITEBYTECODE is dropped), filled by one untimed `--help`
and `run` per checkout before timing, as on any machine where netops-agent ran before.

`--baseline /work/main/src` times each command a second time, interleaved, on another
checkout's sources (named `command@base`): a before/after under the same load.

`--split NAME` runs one command in this process with timers around its phases and
prints exclusive times: imports (everything the command imports), twin (building the
twin, injecting faults, sampling telemetry as its clock advances), intake (detectors,
probes, correlation; the pings themselves count as twin), agent (its own logic, tool
parsing, tickets), database (every statement sent to DuckDB: reads and writes) and
other (CLI, report, runbook loading).
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import io
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LARGE = ROOT / "benchmarks" / "large-case.yaml"
CLI = [sys.executable, "-m", "netops_agent.cli.app"]

# `fit`'s runbooks: the shipped ones with the first title reworded (no shipped fit is theirs).
_OWN = tempfile.mkdtemp(prefix="bench-runbooks-")
atexit.register(shutil.rmtree, _OWN, True)
(Path(_OWN) / "runbooks.yaml").write_text(
    (ROOT / "src" / "netops_agent" / "data" / "runbooks.yaml")
    .read_text()
    .replace("title:", "title: Ours,", 1)
)

COMMANDS: dict[str, list[str]] = {
    "floor": [sys.executable, "-c", "import duckdb"],
    "help": [*CLI, "--help"],
    "run": [*CLI, "run", "--json"],
    "cold": [*CLI, "run", "--json"],
    "fit": [*CLI, "run", "--json", "--runbooks", str(Path(_OWN) / "runbooks.yaml")],
    "rerun": [*CLI, "run", "--json"],
    "large": [*CLI, "run", "--scenario", str(LARGE), "--json"],
    "eval": [*CLI, "eval", "--suite", "catalog", "--json"],
}
ARGS: dict[str, list[str]] = {k: v[len(CLI) :] for k, v in COMMANDS.items() if v[: len(CLI)] == CLI}


_CACHE = tempfile.mkdtemp(prefix="bench-cache-")  # the fitted index, shared by every warm command
atexit.register(shutil.rmtree, _CACHE, True)
# Compiled bytecode (.pyc) of every module, kept here for the benchmark's processes, as an
# installed netops-agent keeps it after its first run: without it (PYTHONDONTWRITEBYTECODE=1 in
# the environment) each process compiles all of src/ again, ~0.5 s of CPU a run.
_PYC = tempfile.mkdtemp(prefix="bench-pyc-")
atexit.register(shutil.rmtree, _PYC, True)


def _env(src: Path | None = None, cold: bool = False) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NETOPS_")}
    first = str(src or ROOT / "src")
    env["PYTHONPATH"] = os.pathsep.join([first, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["NETOPS_CACHE"] = "off" if cold else _CACHE
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = _PYC  # the checkouts stay untouched
    return env


def warm(src: Path | None = None) -> None:
    """One untimed `run` (and `--help`) per checkout: fills the bytecode and index caches, as
    any earlier run on the machine would have."""
    with tempfile.TemporaryDirectory() as cwd:
        for argv in (COMMANDS["help"], COMMANDS["run"]):
            subprocess.run(argv, cwd=cwd, env=_env(src), capture_output=True, check=True)


_KEPT: dict[str, str] = {}  # rerun's directory per src, warmed by one untimed run
atexit.register(lambda: [shutil.rmtree(d, ignore_errors=True) for d in _KEPT.values()])


def run_once(
    argv: list[str], src: Path | None = None, keep: bool = False, cold: bool = False
) -> tuple[float, int, float]:
    """(wall seconds, peak RSS bytes, CPU seconds) of one process in a fresh directory, or in
    a kept one (`keep`) where the same command already ran once; `cold`: no index cache."""
    if keep and str(src) not in _KEPT:
        _KEPT[str(src)] = tempfile.mkdtemp(prefix="bench-rerun-")
        subprocess.run(argv, cwd=_KEPT[str(src)], env=_env(src), capture_output=True, check=True)
    with contextlib.nullcontext(_KEPT[str(src)]) if keep else tempfile.TemporaryDirectory() as cwd:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            argv, cwd=cwd, env=_env(src, cold), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        err = proc.stderr.read().decode() if proc.stderr else ""
        if proc.stderr:
            proc.stderr.close()
    if proc.returncode:
        raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}:\n{err[-2000:]}")
    return wall, usage.ru_maxrss * 1024, usage.ru_utime + usage.ru_stime


def paired(names: list[str], repeat: int, baseline: Path | None = None) -> dict[str, dict[str, Any]]:
    """Each name is a command, or `command@base` for the same command on the baseline's src."""
    walls: dict[str, list[float]] = {n: [] for n in names}
    rss: dict[str, list[int]] = {n: [] for n in names}
    cpu: dict[str, list[float]] = {n: [] for n in names}
    warm()
    if baseline is not None:
        warm(baseline)
    for _ in range(repeat):
        for n in names:  # round-robin: each repetition of each command sees similar load
            cmd, _, base = n.partition("@")
            w, r, c = run_once(
                COMMANDS[cmd], baseline if base else None, keep=cmd == "rerun", cold=cmd in ("cold", "fit")
            )
            walls[n].append(w)
            rss[n].append(r)
            cpu[n].append(c)
    floor = statistics.median(walls["floor"]) if "floor" in walls else None
    out = {}
    for n in names:
        med = statistics.median(walls[n])
        out[n] = {
            "median_s": round(med, 3),
            "min_s": round(min(walls[n]), 3),
            "max_s": round(max(walls[n]), 3),
            "cpu_s": round(statistics.median(cpu[n]), 3),
            "peak_rss_mib": round(statistics.median(rss[n]) / 2**20, 1),
            "x_floor": round(med / floor, 1) if floor else None,
            "runs": len(walls[n]),
        }
    return out


def _loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def bench(args: argparse.Namespace) -> None:
    picked = [n for n in args.only.split(",") if n and n != "floor"]
    unknown = [n for n in picked if n not in COMMANDS]
    if unknown:
        raise SystemExit(f"unknown command(s) {unknown}; choose from {', '.join(COMMANDS)}")
    names = ["floor"]
    for n in picked:
        names += [n, f"{n}@base"] if args.baseline else [n]
    before = _loadavg()
    results = paired(names, args.repeat, Path(args.baseline).resolve() if args.baseline else None)
    after = _loadavg()
    if args.json:
        print(json.dumps({"cpus": os.cpu_count(), "load_before": before, "load_after": after, **results}))
        return
    print(f"{os.cpu_count()} CPUs; load average before {before}, after {after}; median of {args.repeat}")
    if args.baseline:
        print(f"name@base: the same command with PYTHONPATH={args.baseline}")
    print(
        f"{'command':<10} {'median s':>9} {'min':>7} {'max':>7} {'CPU s':>7} {'peak MiB':>9} {'x floor':>8}"
    )
    for n, r in results.items():
        print(
            f"{n:<10} {r['median_s']:>9.2f} {r['min_s']:>7.2f} {r['max_s']:>7.2f} {r['cpu_s']:>7.2f} "
            f"{r['peak_rss_mib']:>9.0f} {r['x_floor'] or 0:>8.1f}"
        )


# --- split mode ----------------------------------------------------------------------------------
def _clock() -> float:
    """The split's clock: wall time, or with --clock cpu the process's CPU time (every thread,
    DuckDB's included), which another busy process on the machine barely changes."""
    return time.process_time() if os.environ.get("BENCH_CLOCK") == "cpu" else time.perf_counter()


class Phases:
    """Exclusive time per phase: time inside a nested phase is not also its parent's."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = {}
        self.stack: list[list[Any]] = []  # [name, started, child time]

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        frame = [name, _clock(), 0.0]
        self.stack.append(frame)
        try:
            yield
        finally:
            self.stack.pop()
            spent = _clock() - frame[1]
            self.totals[name] = self.totals.get(name, 0.0) + spent - frame[2]
            if self.stack:
                self.stack[-1][2] += spent

    def wrap(self, owner: Any, attr: str, name: str) -> None:
        fn = getattr(owner, attr)
        if getattr(fn, "_bench_wrapped", False):
            return

        def timed(*a: Any, **kw: Any) -> Any:
            with self.phase(name):
                return fn(*a, **kw)

        timed._bench_wrapped = True  # type: ignore[attr-defined]
        static = isinstance(owner.__dict__.get(attr), staticmethod)
        setattr(owner, attr, staticmethod(timed) if static else timed)


def _instrument(ph: Phases) -> None:
    from netops_agent.agent import Agent
    from netops_agent.intake import pipeline
    from netops_agent.lab.sim.faults import SimFaults
    from netops_agent.lab.sim.lab import SimLab
    from netops_agent.store.db import Store

    targets: list[tuple[Any, str, str]] = [
        (SimLab, "__init__", "twin"),
        (SimLab, "advance", "twin"),
        (SimLab, "execute", "twin"),
        (SimLab, "configure", "twin"),
        (SimFaults, "inject", "twin"),
        (SimFaults, "inject_all", "twin"),
        (pipeline, "run_intake", "intake"),
        (pipeline, "detect", "intake"),
        (Agent, "handle", "agent"),
        (Store, "_fetch", "database"),
        (Store, "arrow", "database"),
        (Store, "append_arrow", "database"),
        (Store, "close", "database"),
    ]
    for owner, attr, name in targets:
        ph.wrap(owner, attr, name)


def split(args: argparse.Namespace) -> None:
    if args.split not in ARGS:
        raise SystemExit(f"--split takes one of {', '.join(n for n in ARGS if n != 'help')}")
    rows: list[dict[str, float]] = []
    warm()
    for _ in range(args.repeat):
        out = subprocess.run(
            [sys.executable, __file__, "--split-child", args.split],
            env={**_env(), "BENCH_CLOCK": args.clock},
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode:
            raise SystemExit(out.stderr[-2000:])
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    keys = list(rows[0])
    med = {k: statistics.median(r[k] for r in rows) for k in keys}
    print(
        f"netops-agent {' '.join(ARGS[args.split])}: where the time goes "
        f"({args.clock} seconds, median of {args.repeat}; load average {_loadavg()})"
    )
    for k in keys:
        if k in ("total", "peak_rss_mib"):
            continue
        print(f"  {k:<10} {med[k]:7.2f} s  {100 * med[k] / med['total']:5.1f} %")
    print(f"  {'total':<10} {med['total']:7.2f} s  (in process, interpreter start excluded)")
    print(f"  peak RSS   {med['peak_rss_mib']:7.0f} MiB")


def split_child(name: str) -> None:
    import builtins

    ph = Phases()
    real_import = builtins.__import__

    def timed_import(*a: Any, **kw: Any) -> Any:
        mod = sys.modules.get(a[0]) if not kw.get("fromlist") and len(a) < 4 else None
        if mod is not None:  # already imported: not worth a frame
            return real_import(*a, **kw)
        with ph.phase("imports"):
            return real_import(*a, **kw)

    t0 = _clock()
    builtins.__import__ = timed_import
    import netops_agent.cli.app as app

    _instrument_later = _instrument
    with tempfile.TemporaryDirectory() as cwd:
        os.chdir(cwd)
        sys.argv = ["netops-agent", *ARGS[name]]
        with ph.phase("imports"):
            _instrument_later(ph)  # imports what the command would import anyway (the twin, agent)
        with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
            app.main()
        total = _clock() - t0
    builtins.__import__ = real_import
    keys = ("imports", "twin", "intake", "agent", "database")
    out: dict[str, float] = {k: ph.totals.get(k, 0.0) for k in keys}
    out["other"] = total - sum(ph.totals.values())
    out["total"] = total
    out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=None, help="runs per command (default 5; 3 with --split)")
    ap.add_argument(
        "--only", default="help,run,cold,fit,rerun,large,eval", help="comma-separated commands to time"
    )
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    ap.add_argument(
        "--baseline", metavar="SRC", help="also time each command with this src/ (e.g. main's), paired"
    )
    ap.add_argument("--split", metavar="NAME", help="one command in process, timed by phase")
    ap.add_argument(
        "--clock", choices=("wall", "cpu"), default="wall", help="--split's clock (cpu: steadier when busy)"
    )
    ap.add_argument("--split-child", metavar="NAME", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.split_child:
        split_child(args.split_child)
    elif args.split:
        args.repeat = args.repeat or 3
        split(args)
    else:
        args.repeat = args.repeat or 5
        bench(args)


if __name__ == "__main__":
    main()
