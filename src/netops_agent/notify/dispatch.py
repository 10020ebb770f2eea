"""Ticket transitions out to webhooks: an outbox read from `ticket_events`, retries, dead letters.

Nothing in the ticket path calls a webhook: a ticket's state change and its event
commit together as always, and `enqueue` later reads the events past a cursor (kept
in `meta`) and writes one `notifications` row per event and interested target, in
one transaction with the cursor. So a crash never loses a transition or sends one
twice from our side, and a slow or dead endpoint never slows the agent.

`deliver` posts what is due; a failure is retried with exponential back-off until the
target's `max_attempts`, then the row is `dead` (kept with its last error; see
`netops-agent notifications` and `notifications retry`).
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from netops_agent.notify.config import NotifyConfig, Target
from netops_agent.notify.payloads import FORMATS
from netops_agent.store import Store
from netops_agent.store.db import utcnow

log = logging.getLogger("netops_agent.notify")
CURSOR = "notify.last_ticket_event"
SENT_KINDS = ("opened", "transition")


@dataclass
class DeliveryStats:
    queued: int = 0
    delivered: int = 0
    failed: int = 0
    dead: int = 0


def enqueue(store: Store, config: NotifyConfig, now: datetime | None = None) -> int:
    """New ticket events -> pending notifications for every target that wants them."""
    now = now or utcnow()
    with store.transaction():
        cursor = int(store.get_meta(CURSOR) or 0)
        events = store.query(
            "SELECT * FROM ticket_events WHERE id > ? AND kind IN ('opened', 'transition') ORDER BY id",
            [cursor],
        )
        if not events:
            return 0
        rows = []
        tickets: dict[str, dict[str, Any]] = {}
        incidents: dict[str, dict[str, Any]] = {}
        for ev in events:
            ticket = tickets.get(ev["ticket_id"])
            if ticket is None:
                ticket = store.query_one("SELECT * FROM tickets WHERE id = ?", [ev["ticket_id"]]) or {
                    "id": ev["ticket_id"]
                }
                tickets[ev["ticket_id"]] = ticket
            inc_id = ticket.get("incident_id") or ""
            incident = incidents.get(inc_id)
            if incident is None:
                incident = store.query_one("SELECT * FROM incidents WHERE id = ?", [inc_id]) or {}
                incidents[inc_id] = incident
            for target in config.targets:
                if not target.wants(str(ev["to_state"])):
                    continue
                body = FORMATS[target.kind]({**ticket, "state": ev["to_state"]}, ev, incident)
                rows.append((ev, target, body))
        for ev, target, body in rows:
            store.execute(
                "INSERT INTO notifications (event_id, ticket_id, target, kind, transition, payload, state, "
                "attempts, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?) "
                "ON CONFLICT DO NOTHING",
                [
                    ev["id"],
                    ev["ticket_id"],
                    target.name,
                    target.kind,
                    f"{ev.get('from_state') or ''}->{ev['to_state']}",
                    json.dumps(body, default=str),
                    now,
                    now,
                ],
            )
        store.set_meta(CURSOR, str(events[-1]["id"]))
    return len(rows)


def deliver(
    store: Store, config: NotifyConfig, now: datetime | None = None, *, client: Any = None
) -> DeliveryStats:
    """Post every due notification once; record success, back-off or death."""
    import httpx

    now = now or utcnow()
    stats = DeliveryStats()
    due = store.query(
        "SELECT * FROM notifications WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY id", [now]
    )
    own = client is None
    http = client or httpx.Client(follow_redirects=False)
    try:
        for n in due:
            target = config.target(n["target"])
            if target is None:  # a target removed from the config since: keep it, visibly
                _failed(store, n, None, "target no longer configured", now)
                stats.dead += 1
                continue
            error = _post(http, target, n["payload"])
            if error is None:
                store.execute(
                    "UPDATE notifications SET state = 'delivered', attempts = attempts + 1, "
                    "delivered_at = ?, last_error = NULL WHERE id = ?",
                    [now, n["id"]],
                )
                stats.delivered += 1
            elif _failed(store, n, target, error, now):
                stats.dead += 1
            else:
                stats.failed += 1
    finally:
        if own:
            http.close()
    return stats


def _post(http: Any, target: Target, payload: str) -> str | None:
    """None on a 2xx answer, else a short error that names no secret."""
    import httpx

    try:
        resp = http.post(
            target.resolved_url(),
            content=payload if isinstance(payload, str) else json.dumps(payload),
            headers={"Content-Type": "application/json", **target.resolved_headers()},
            timeout=target.timeout_s,
        )
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__} talking to {target.host()}"
    except Exception as exc:  # ConfigError for a missing ${VAR}: a config problem, kept as the error
        return str(exc)[:200]
    if 200 <= resp.status_code < 300:
        return None
    return f"HTTP {resp.status_code} from {target.host()}"


def _failed(store: Store, n: dict[str, Any], target: Target | None, error: str, now: datetime) -> bool:
    attempts = int(n["attempts"]) + 1
    dead = target is None or attempts >= target.max_attempts
    delay = 0.0 if target is None else target.backoff_s * (2 ** (attempts - 1))
    store.execute(
        "UPDATE notifications SET attempts = ?, last_error = ?, state = ?, next_attempt_at = ? WHERE id = ?",
        [attempts, error, "dead" if dead else "pending", now + timedelta(seconds=delay), n["id"]],
    )
    log.warning(
        "notification %s to %s (%s): %s%s",
        n["id"],
        n["target"],
        target.host() if target else "?",
        error,
        " - giving up (dead letter)" if dead else f" - retry in {delay:.0f}s",
    )
    return dead


def retry(store: Store, ids: list[int] | None = None, now: datetime | None = None) -> int:
    """Dead (or failing) notifications back to pending, due now; all dead ones if `ids` is None."""
    now = now or utcnow()
    with store.transaction():
        if ids is None:
            rows = store.query("SELECT id FROM notifications WHERE state = 'dead'")
        else:
            rows = store.query(
                "SELECT id FROM notifications WHERE list_contains(?, id) AND state <> 'delivered'", [ids]
            )
        found = [r["id"] for r in rows]
        if found:
            store.execute(
                "UPDATE notifications SET state = 'pending', attempts = 0, next_attempt_at = ? "
                "WHERE list_contains(?, id)",
                [now, found],
            )
    return len(found)


def list_notifications(store: Store, state: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    sql = (
        "SELECT id, ticket_id, target, kind, transition, state, attempts, next_attempt_at, "
        "last_error, created_at, delivered_at FROM notifications"
    )
    params: list[Any] = []
    if state:
        sql += " WHERE state = ?"
        params.append(state)
    return store.query(sql + " ORDER BY id DESC LIMIT ?", [*params, limit])


class Notifier:
    """A background thread: enqueue new transitions and deliver what is due, every `interval_s`."""

    def __init__(self, db: str, config: NotifyConfig, *, interval_s: float = 1.0) -> None:
        self.db, self.config, self.interval_s = db, config, interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="notifier", daemon=True)

    def start(self) -> Notifier:
        if self.config.targets:
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        import httpx

        with Store(self.db) as store, httpx.Client() as http:
            while not self._stop.is_set():
                try:
                    enqueue(store, self.config)
                    deliver(store, self.config, client=http)
                except Exception:  # keep notifying; the error is in the log
                    log.exception("notification pass failed")
                self._stop.wait(self.interval_s)
