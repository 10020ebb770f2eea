"""Named points where the fault-injection tests stop a command, deterministically.

With `NETOPS_KILLPOINT=NAME` (or `NAME:N` for its N-th pass) a command that reaches
that point writes `netops-agent: at kill point NAME:N` to stderr and waits there until
it is signalled: the test then sends SIGKILL or SIGINT at exactly that point, with no
sleep-and-hope, or SIGUSR1 to let it go on (say after reading the database from another
process meanwhile). Unset (always, outside tests) a kill point costs one dict lookup.

Points: `opened` (inside the transaction that records monitoring's alerts, incidents
and tickets), `incident` (inside an incident's unit of record, before the agent works
it), `commit` (inside `run`'s final transaction, after the previous run's records were
deleted and before the new ones are in), `committed` (after it), `resume` (inside
`resume`'s transaction), `released` (`solve` between two incidents, the database file
let go), `saving` / `saved` (inside / after the transaction that stores one evaluation
case).
"""

from __future__ import annotations

import os
import signal
import sys
import time

ENV = "NETOPS_KILLPOINT"
_passes: dict[str, int] = {}


def killpoint(name: str) -> None:
    want = os.environ.get(ENV)
    if not want:
        return
    point, _, nth = want.partition(":")
    if point != name:
        return
    _passes[name] = _passes.get(name, 0) + 1
    if _passes[name] != int(nth or 1):
        return
    go_on = []
    previous = signal.signal(signal.SIGUSR1, lambda *_: go_on.append(True))
    try:
        sys.stderr.write(f"netops-agent: at kill point {name}:{_passes[name]}\n")
        sys.stderr.flush()
        while not go_on:  # SIGINT raises KeyboardInterrupt here, SIGKILL ends the process
            time.sleep(0.05)
    finally:
        signal.signal(signal.SIGUSR1, previous)
