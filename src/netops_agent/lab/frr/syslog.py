"""FRR's own daemon logs as a syslog feed, in the twin's `LOG_SCHEMA`.

Each router's daemons write `<daemon>.log` in its directory (see `daemons.py`) and the
lab writes `config.log` for every configuration change. `FrrSyslog` tails those files
like a syslog receiver: it remembers how far it has read each one, turns every new
line into a row (ts, device, facility, severity, mnemonic, message) and keeps the rows
it has received, so `since(ts)` answers `NetworkView.logs_since`.

FRR's messages are normalised into the Cisco-style tags the shipped detection rules
(`data/detection.yaml`, `syslog:`) already match, so one set of rules serves the twin
and FRR:

- `OSPF: AdjChg: Nbr R, NbrIP A on IF:..: Full -> Deleted (KillNbr)`
  -> `OSPF-5-ADJCHG` `Process 1, Nbr R on IF from FULL to DOWN, KillNbr`
- `BGP: %ADJCHANGE: neighbor A(name) in vrf default Down Admin. shutdown`
  -> `BGP-5-ADJCHANGE` `neighbor A Down Admin. shutdown`
- `BGP: %NOTIFICATION: sent to neighbor A 2/2 (OPEN Message Error/Bad Peer AS) ...`
  -> `BGP-3-NOTIFICATION` `sent to neighbor A 2/2 (OPEN Message Error/Bad Peer AS) ...`
- `SYS: %CONFIG_I: Configured from vty by netops: ...` -> `SYS-5-CONFIG_I`

Any other line is kept as `<DAEMON>-6-LOG` (`-3-` when FRR tags it with an error
code) so the agent can still read it; no rule matches those tags.

FRR stamps lines to the second in local time. The receiver converts them to naive UTC
and keeps its feed strictly increasing (a line stamped no later than the previous one
is moved a microsecond after it), so a reader asking for rows after the newest one it
stored never loses a line logged in the same second.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Protocol

import pyarrow as pa

from netops_agent.lab.base import LOG_SCHEMA
from netops_agent.lab.frr.commands import CONFIG_LOG
from netops_agent.lab.frr.state import LabState
from netops_agent.lab.frr.system import DAEMONS

_LINE = re.compile(
    r"^(?P<stamp>\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2})(?:\.\d+)? (?P<daemon>[A-Z0-9_]+): (?P<text>.*)$"
)
_TAGS = re.compile(r"^(?:\[[A-Z0-9-]+\])?(?P<ec>\[EC \d+\])?\s*")
_OSPF_ADJ = re.compile(
    r"AdjChg: Nbr (?P<rid>[\d.]+)(?:\([^)]*\))?(?:, NbrIP \S+(?: \([^)]*\))?)? on (?P<itf>[^:\s]+)\S*: "
    r"(?P<old>[\w-]+) -> (?P<new>[\w-]+)(?: \((?P<event>[^)]*)\))?"
)
_BGP_ADJ = re.compile(
    r"%ADJCHANGE: neighbor (?P<peer>[^\s(]+)(?:\([^)]*\))?(?: in vrf \S+)? (?P<state>Up|Down)(?P<rest>.*)"
)
_BGP_NOTIFY = re.compile(
    r"%NOTIFICATION(?:\([^)]*\))?: (?P<dir>sent to|received from) neighbor (?P<peer>[^\s(]+)"
    r"(?:\([^)]*\))? (?P<rest>\d+/\d+.*)"
)
_CONFIG = re.compile(r"%CONFIG_I: (?P<rest>Configured from .*)")
# FRR's neighbour state names -> the IOS ones the OSPF adjacency rule matches
_OSPF_STATES = {"deleted": "DOWN", "down": "DOWN", "attempt": "ATTEMPT", "init": "INIT", "2-way": "2WAY",
                "exstart": "EXSTART", "exchange": "EXCHANGE", "loading": "LOADING", "full": "FULL",
                "depend-upon": "DOWN"}  # fmt: skip


@dataclass(frozen=True)
class LogRow:
    ts: datetime  # naive UTC
    device: str
    facility: str
    severity: int
    mnemonic: str
    message: str


def _utc(stamp: str) -> datetime:
    local = datetime.strptime(stamp, "%Y/%m/%d %H:%M:%S")
    return local.astimezone(timezone.utc).replace(tzinfo=None)  # naive = local time


def normalise(device: str, line: str) -> LogRow | None:
    """One FRR log line as a syslog row (None for a line without FRR's time stamp)."""
    m = _LINE.match(line)
    if m is None:
        return None
    ts, daemon = _utc(m["stamp"]), m["daemon"]
    tags = _TAGS.match(m["text"])
    text = m["text"][tags.end() :] if tags else m["text"]
    if (a := _OSPF_ADJ.search(text)) is not None:
        old = _OSPF_STATES.get(a["old"].lower(), a["old"].upper())
        new = _OSPF_STATES.get(a["new"].lower(), a["new"].upper())
        event = a["event"] or "state change"
        msg = f"Process 1, Nbr {a['rid']} on {a['itf']} from {old} to {new}, {event}"
        return LogRow(ts, device, "OSPF", 5, "ADJCHG", msg)
    if (a := _BGP_ADJ.search(text)) is not None:
        return LogRow(ts, device, "BGP", 5, "ADJCHANGE", f"neighbor {a['peer']} {a['state']}{a['rest']}")
    if (a := _BGP_NOTIFY.search(text)) is not None:
        return LogRow(ts, device, "BGP", 3, "NOTIFICATION", f"{a['dir']} neighbor {a['peer']} {a['rest']}")
    if (a := _CONFIG.search(text)) is not None:
        return LogRow(ts, device, "SYS", 5, "CONFIG_I", a["rest"])
    severity = 3 if tags is not None and tags["ec"] else 6
    return LogRow(ts, device, daemon, severity, "LOG", text)


class _HasState(Protocol):
    @property
    def state(self) -> LabState: ...


@dataclass
class FrrSyslog:
    """Tails every router's log files; keeps what it received, newest last."""

    lab: _HasState
    offsets: dict[Path, int] = field(default_factory=dict)
    rows: list[LogRow] = field(default_factory=list)
    _last: datetime | None = None

    def files(self) -> list[tuple[str, Path]]:
        names = [*(f"{d}.log" for d in DAEMONS), CONFIG_LOG]
        return [(r.name, Path(r.dir) / n) for r in self.lab.state.routers.values() for n in names]

    def skip_to_end(self) -> None:
        """Start listening now: what the files hold already is not received; the
        rows received so far are forgotten (a new case starts on a fresh feed)."""
        self.offsets = {path: _size(path) for _, path in self.files()}
        self.rows.clear()

    def poll(self) -> list[LogRow]:
        """Read every line appended since the last poll; return the new rows."""
        fresh: list[tuple[datetime, int, LogRow]] = []
        for n, (device, path) in enumerate(self.files()):
            for line in self._new_lines(path):
                row = normalise(device, line)
                if row is not None:
                    fresh.append((row.ts, n, row))
                elif fresh and line.strip() and fresh[-1][2].device == device:  # continuation
                    ts, order, prev = fresh[-1]
                    fresh[-1] = (ts, order, _with_message(prev, f"{prev.message} {line.strip()}"))
        fresh.sort(key=lambda e: (e[0], e[1]))
        out = []
        for _, _, row in fresh:
            if self._last is not None and row.ts <= self._last:
                row = LogRow(self._last + timedelta(microseconds=1), *_fields(row)[1:])
            self._last = row.ts
            out.append(row)
        self.rows += out
        return out

    def since(self, since: datetime | None) -> pa.Table:
        self.poll()
        cut = since.astimezone(timezone.utc).replace(tzinfo=None) if since and since.tzinfo else since
        return to_table([r for r in self.rows if cut is None or r.ts > cut])

    def _new_lines(self, path: Path) -> list[str]:
        start = self.offsets.get(path, 0)
        try:
            with path.open("rb") as fh:
                if _size(path) < start:  # rotated or truncated: read it from the top
                    start = 0
                fh.seek(start)
                data = fh.read()
        except OSError:
            return []
        end = data.rfind(b"\n") + 1  # a half-written last line waits for the next poll
        self.offsets[path] = start + end
        return data[:end].decode(errors="replace").splitlines()


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _fields(row: LogRow) -> tuple[datetime, str, str, int, str, str]:
    return (row.ts, row.device, row.facility, row.severity, row.mnemonic, row.message)


def _with_message(row: LogRow, message: str) -> LogRow:
    return LogRow(row.ts, row.device, row.facility, row.severity, row.mnemonic, message)


def to_table(rows: list[LogRow]) -> pa.Table:
    cols = list(zip(*(_fields(r) for r in rows), strict=True)) if rows else [[]] * 6
    return pa.table(
        [pa.array(list(col), f.type) for col, f in zip(cols, LOG_SCHEMA, strict=True)], schema=LOG_SCHEMA
    )
