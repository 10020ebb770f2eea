"""The receivers' one writer: queue in, batches to DuckDB, a correlation cycle, incidents out.

Receivers (syslog and trap listeners, the Alertmanager endpoint) never touch the
database: they `put` what they parsed and return at once, so a burst of messages or
a slow agent never makes a sender wait. One thread owns the writes:

1. it drains the queue in batches and appends events through Arrow, one transaction
   per batch (Alertmanager notifications are upserted by fingerprint in the same way);
2. every `cycle_s` with something new, it runs the syslog detector over the received
   events, flags alerts on devices the inventory does not know, correlates the scope's
   unassigned alerts into incidents and opens a ticket for each: the same
   dedup -> correlation -> incident -> ticket path as the lab's own telemetry;
3. it hands new incidents to `on_incidents` (the agent, when `--auto-remediate`).

A storm's cycle never holds the writer for long: the drafts form on a worker thread
while the writer goes on storing what arrives, and they are recorded `chunk` at a time,
each part (its alerts' links, its incidents and their tickets) one transaction, with
what queued up meanwhile written between two parts. A POST thus waits for one part,
not for a thousand incidents. Parts are numbered after what the parts before them
stored, so the incidents and tickets are the ones one transaction would have opened;
a crash between two parts leaves whole incidents with their tickets, and the alerts
of the parts not yet written unassigned, for the next cycle.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from netops_agent.intake.config import DetectionConfig, load_detection
from netops_agent.receivers.syslog import SyslogMessage
from netops_agent.store import Store
from netops_agent.store.db import utcnow

if TYPE_CHECKING:  # pyarrow and the lab's schemas load with the first signal, not with `serve`
    import pyarrow as pa

    from netops_agent.intake.correlate import Draft
    from netops_agent.models import Incident, Inventory

log = logging.getLogger("netops_agent.receivers")

_STOP = object()


@dataclass
class HubStats:
    events_received: int = 0
    events_stored: int = 0
    alerts_received: int = 0
    alerts_new: int = 0
    alerts_updated: int = 0
    incidents_opened: int = 0
    cycles: int = 0
    errors: int = 0
    last_error: str = ""
    by_source: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass
class AlertBatch:
    rows: list[dict[str, Any]]
    done: Future[dict[str, int]]


class _Clock:
    """What `intake.pipeline.correlate` needs of a network: its inventory and the time."""

    def __init__(self, inventory: Any) -> None:
        self._inventory = inventory

    def inventory(self) -> Any:
        return self._inventory

    def now(self) -> datetime:
        return utcnow()


class ReceiverHub:
    """Owns the write path for received signals (start it, `put_*` from any thread, stop it)."""

    def __init__(
        self,
        db: Path | str,
        *,
        config: DetectionConfig | None = None,
        batch: int = 2000,
        flush_s: float = 0.2,
        chunk: int = 200,
        on_incidents: Callable[[list[Incident]], None] | None = None,
        lease: Callable[[], AbstractContextManager[Store]] | None = None,
    ) -> None:
        self.db = str(db)
        # Each batch and each cycle opens the database for just that work (by default
        # a read-write Store; `serve` passes its own short write leases), so another
        # process can take the file between batches.
        self._lease = lease or (lambda: Store(self.db))
        self.config = config or load_detection()
        self.scope = self.config.receivers.scope
        self.batch = batch
        self.flush_s = flush_s
        self.chunk = max(1, chunk)  # incidents per transaction of a cycle (see the module's doc)
        self.on_incidents = on_incidents
        self.stats = HubStats()
        self._q: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="receiver-writer", daemon=True)
        self._dirty = False
        self._last_cycle = 0.0
        self._lock = threading.Lock()
        self._idle = threading.Event()
        self._idle.set()
        self._grouper: ThreadPoolExecutor | None = None  # forms a big cycle's drafts

    # --- what receivers call (never blocks on the database) ---------------------------------
    def put_event(self, msg: SyslogMessage, source: str = "syslog") -> None:
        with self._lock:
            self.stats.events_received += 1
            self.stats.by_source[source] = self.stats.by_source.get(source, 0) + 1
            self._idle.clear()
        self._q.put(msg)

    def submit_alerts(self, rows: list[dict[str, Any]]) -> Future[dict[str, int]]:
        """Queue Alertmanager rows; the future resolves once they are committed."""
        fut: Future[dict[str, int]] = Future()
        with self._lock:
            self.stats.alerts_received += len(rows)
            self.stats.by_source["alertmanager"] = self.stats.by_source.get("alertmanager", 0) + len(rows)
            self._idle.clear()
        self._q.put(AlertBatch(rows, fut))
        return fut

    # --- lifecycle ----------------------------------------------------------------------------
    def start(self, check_db: bool = True) -> ReceiverHub:
        """Start the writer; first migrate, and fail here in the caller on a bad database,
        unless the caller has (`serve`'s database access checks the file once for all)."""
        if check_db:
            with self._lease():
                pass
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Write what is queued, run a last cycle, stop the thread."""
        if self._thread.is_alive():
            self._q.put(_STOP)
            self._thread.join(timeout)
        if self._grouper is not None:
            self._grouper.shutdown(wait=False)

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until everything queued so far is stored and correlated (tests, benchmarks)."""
        self.request_cycle()
        return self._idle.wait(timeout)

    def request_cycle(self) -> None:
        self._q.put(None)  # a wake-up: the writer runs a cycle if anything is new

    # --- the writer thread --------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            items, stop = self._take()
            if items:
                self._write(items)
            force = stop or (not items and self._q.empty())
            if self._dirty and (
                force or time.monotonic() - self._last_cycle >= self.config.receivers.cycle_s
            ):
                self._cycle()
            if self._q.empty() and not self._dirty:
                self._idle.set()
            if stop:
                return

    def _take(self) -> tuple[list[Any], bool]:
        items: list[Any] = []
        deadline = time.monotonic() + self.flush_s
        timeout = self.config.receivers.cycle_s if not self._dirty else max(0.05, self.flush_s)
        try:
            first = self._q.get(timeout=timeout)
        except queue.Empty:
            return items, False
        if first is _STOP:
            return items, True
        if first is not None:
            items.append(first)
        # A POST waits for its commit: with one in hand, take what is queued and go (the
        # batching window is for listeners, who never wait).
        answer = isinstance(first, AlertBatch)
        while len(items) < self.batch:
            remaining = deadline - time.monotonic()
            try:
                wait = not answer and remaining > 0
                item = self._q.get(timeout=remaining) if wait else self._q.get_nowait()
            except queue.Empty:
                break
            if item is _STOP:
                self._q.put(_STOP)
                break
            if item is not None:
                items.append(item)
                answer = answer or isinstance(item, AlertBatch)
        return items, False

    def _serve_queued(self, store: Store, *, wait: bool = False) -> bool:
        """Inside a cycle: write what is queued (up to a batch) on the cycle's store, so it
        does not wait for the whole cycle; with `wait`, first wait for something (the
        grouper's wake-up at least). False once `stop` was asked: the cycle then ends
        without taking more, and the loop finds the stop where it was."""
        items: list[Any] = []
        going = True
        try:
            item = self._q.get() if wait else self._q.get_nowait()
            while True:
                if item is _STOP:
                    self._q.put(_STOP)
                    going = False
                    break
                if item is not None:
                    items.append(item)
                    if len(items) >= self.batch:
                        break
                item = self._q.get_nowait()
        except queue.Empty:
            pass
        if items:
            self._write(items, store)
        return going

    def _write(self, items: list[Any], held: Store | None = None) -> None:
        events = [i for i in items if isinstance(i, SyslogMessage)]
        batches = [i for i in items if isinstance(i, AlertBatch)]
        try:
            with nullcontext(held) if held is not None else self._lease() as store, store.transaction():
                if events:
                    names = _device_names(store) | self.config.receivers.hosts
                    store.append_arrow("events", _event_table(events, names))
                results = [upsert_alerts(store, b.rows, self.scope) for b in batches]
        except Exception as exc:  # a bad batch must not kill the receivers
            log.exception("could not store %d received items", len(items))
            self._error(str(exc))
            for b in batches:
                b.done.set_exception(exc)
            return
        with self._lock:
            self.stats.events_stored += len(events)
            for r in results:
                self.stats.alerts_new += r["new"]
                self.stats.alerts_updated += r["updated"]
        for b, r in zip(batches, results, strict=True):
            b.done.set_result(r)
        self._dirty = True

    def _cycle(self) -> None:
        self._last_cycle = time.monotonic()
        self._dirty = False
        opened: list[Incident] = []
        try:
            with self._lease() as store:
                self._correlate(store, opened)
        except Exception as exc:  # the parts committed before it stay (whole incidents)
            log.exception("correlating received signals failed")
            self._error(str(exc))
        else:
            with self._lock:
                self.stats.cycles += 1
        if opened:
            log.info("received signals opened %s", ", ".join(i.id for i in opened))
        if opened and self.on_incidents is not None:
            try:
                self.on_incidents(opened)
            except Exception as exc:  # the agent's trouble is not the receivers'
                log.exception("auto-remediation failed")
                self._error(str(exc))

    def _correlate(self, store: Store, opened: list[Incident]) -> None:
        """One cycle on one store: detect and read (one commit), group, record in parts."""
        with store.transaction():
            alerts, inventory = received_alerts(store, self.config)
        if not alerts:
            return
        drafts, going = self._group(store, alerts, inventory)
        clock = _Clock(inventory)
        for start in range(0, len(drafts), self.chunk):
            if start and going:
                going = self._serve_queued(store)
            with store.transaction():  # the part's links, incidents and tickets
                incidents = open_drafts(store, drafts[start : start + self.chunk], clock)
            opened.extend(incidents)
            with self._lock:
                self.stats.incidents_opened += len(incidents)

    def _group(
        self, store: Store, alerts: list[dict[str, Any]], inventory: Inventory
    ) -> tuple[list[Draft], bool]:
        """Drafts of the alerts; a storm's form on the grouper thread (pure Python over a
        snapshot) while the writer goes on storing what arrives. What it stores meanwhile
        are new or updated alerts, which the drafts' links do not touch (a new alert waits
        for the next cycle), so the outcome is that of the cycle, then those writes."""
        from netops_agent.intake.pipeline import draft_incidents

        if len(alerts) <= self.chunk:
            return draft_incidents(alerts, inventory, self.config), True
        if self._grouper is None:
            self._grouper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="receiver-grouper")
        fut = self._grouper.submit(draft_incidents, alerts, inventory, self.config)
        fut.add_done_callback(lambda _: self._q.put(None))  # wakes the writer's wait below
        going = True
        while going and not fut.done():
            going = self._serve_queued(store, wait=True)
        return fut.result(), going

    def _error(self, message: str) -> None:
        with self._lock:
            self.stats.errors += 1
            self.stats.last_error = message[:300]


def _device_names(store: Store) -> dict[str, str]:
    """Inventory names by every address a device sends from (loopback, interface IPs)."""
    names: dict[str, str] = {}
    for r in store.query("SELECT name, loopback FROM devices"):
        names[r["name"]] = r["name"]
        if r["loopback"]:
            names[str(r["loopback"]).split("/")[0]] = r["name"]
    for r in store.query("SELECT device, ip FROM interfaces WHERE ip IS NOT NULL"):
        names.setdefault(str(r["ip"]).split("/")[0], r["device"])
    return names


def _event_table(events: list[SyslogMessage], names: dict[str, str]) -> pa.Table:
    import pyarrow as pa

    from netops_agent.lab.base import LOG_SCHEMA  # the `events` row, as every lab writes it

    return pa.table(
        {
            "ts": [e.ts for e in events],
            "device": [names.get(e.device, names.get(e.sender, e.device)) for e in events],
            "facility": [e.facility for e in events],
            "severity": [e.severity for e in events],
            "mnemonic": [e.mnemonic for e in events],
            "message": [e.message for e in events],
        },
        schema=LOG_SCHEMA,
    )


@cache
def _am_schema() -> pa.Schema:
    import pyarrow as pa

    return pa.schema(
        [
            ("fingerprint", pa.string()),
            ("source", pa.string()),
            ("device", pa.string()),
            ("entity", pa.string()),
            ("kind", pa.string()),
            ("check_name", pa.string()),
            ("severity", pa.string()),
            ("state", pa.string()),
            ("first_seen", pa.timestamp("us")),
            ("last_seen", pa.timestamp("us")),
            ("cleared_at", pa.timestamp("us")),
            ("message", pa.string()),
            ("detail", pa.string()),
            ("labels", pa.string()),
        ]
    )


def upsert_alerts(store: Store, rows: list[dict[str, Any]], scope: str) -> dict[str, int]:
    """Alertmanager rows -> `alerts`: a resend updates, a new (fingerprint, startsAt) inserts.

    A resolved alert clears the row it resolves; an alert already cleared is never
    re-opened by a late resend of its firing notification.
    """
    import json

    if not rows:
        return {"new": 0, "updated": 0}
    # the last word per (fingerprint, startsAt) within one batch wins (resolved beats firing)
    latest: dict[tuple[str, Any], dict[str, Any]] = {}
    for r in rows:
        key = (r["fingerprint"], r["first_seen"])
        if key not in latest or r["state"] == "cleared" or latest[key]["state"] != "cleared":
            latest[key] = r
    import pyarrow as pa

    data = pa.Table.from_pylist(
        [{**r, "labels": json.dumps(r["labels"], sort_keys=True)} for r in latest.values()],
        schema=_am_schema(),
    )
    store.register("_am", data)
    try:
        existing = store.query(
            "SELECT a.id, am.fingerprint, am.first_seen FROM alerts a JOIN _am am "
            "ON a.fingerprint = am.fingerprint AND a.first_seen = am.first_seen "
            "WHERE a.scope = ? AND a.source = 'alertmanager'",
            [scope],
        )
        store.execute(
            "UPDATE alerts SET "
            "state = CASE WHEN alerts.state = 'cleared' THEN 'cleared' ELSE am.state END, "
            "last_seen = greatest(alerts.last_seen, am.last_seen), "
            "cleared_at = CASE WHEN alerts.state = 'cleared' THEN alerts.cleared_at ELSE am.cleared_at END, "
            "message = am.message, detail = am.detail, severity = am.severity, labels = am.labels "
            "FROM _am am WHERE alerts.scope = ? AND alerts.source = 'alertmanager' "
            "AND alerts.fingerprint = am.fingerprint AND alerts.first_seen = am.first_seen",
            [scope],
        )
        new = data.num_rows - len(existing)
        if new:
            store.execute(
                "INSERT INTO alerts (id, fingerprint, scope, source, device, entity, kind, check_name, "
                "severity, state, count, first_seen, last_seen, cleared_at, value, message, detail, "
                "incident_id, labels, known) "
                "SELECT 'AL' || lpad(CAST(nextval('alert_seq') AS VARCHAR), 6, '0'), am.fingerprint, ?, "
                "am.source, am.device, am.entity, am.kind, am.check_name, am.severity, am.state, 1, "
                "am.first_seen, am.last_seen, am.cleared_at, NULL, am.message, am.detail, NULL, "
                "am.labels, true FROM _am am WHERE NOT EXISTS (SELECT 1 FROM alerts a "
                "WHERE a.scope = ? AND a.source = 'alertmanager' AND a.fingerprint = am.fingerprint "
                "AND a.first_seen = am.first_seen) ORDER BY am.first_seen, am.fingerprint",
                [scope, scope],
            )
    finally:
        store.unregister("_am")
    return {"new": new, "updated": len(existing)}


def received_alerts(store: Store, config: DetectionConfig) -> tuple[list[dict[str, Any]], Inventory]:
    """Detect over received events, flag unknown devices; the scope's unassigned alerts
    and the inventory they are grouped on."""
    from netops_agent.intake import alerts as alert_store
    from netops_agent.intake.pipeline import detect
    from netops_agent.lab.sim.persist import load_inventory

    scope = config.receivers.scope
    detect(store, config, now=utcnow(), scope=scope, detectors=["syslog"])
    store.execute(
        "UPDATE alerts SET known = false WHERE scope = ? AND known IS DISTINCT FROM false "
        "AND device NOT IN (SELECT name FROM devices)",
        [scope],
    )
    return alert_store.active_alerts(store, scope), load_inventory(store)


def open_drafts(store: Store, drafts: list[Draft], clock: _Clock) -> list[Incident]:
    """Record drafts as incidents (numbered after the last stored), link their alerts and
    open a ticket for each: the caller's one transaction."""
    from netops_agent.intake.pipeline import record_drafts
    from netops_agent.pipeline.case import open_incident
    from netops_agent.tickets import TicketService

    incidents, _ = record_drafts(store, clock, drafts)  # type: ignore[arg-type]
    tickets = TicketService(store)
    for inc in incidents:
        open_incident(store, tickets, inc, clock)  # type: ignore[arg-type]
    return incidents


def correlate_received(store: Store, config: DetectionConfig) -> list[Incident]:
    """Detect over received events, flag unknown devices, correlate, open incidents + tickets:
    a whole cycle at once (the hub does the same in parts)."""
    from netops_agent.intake.pipeline import draft_incidents

    alerts, inventory = received_alerts(store, config)
    return open_drafts(store, draft_incidents(alerts, inventory, config), _Clock(inventory))
