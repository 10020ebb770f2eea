"""The table-name regex a store's held writes watch for is compiled once per set of names,
whatever order the set was built in, and finds what a freshly compiled one finds."""

from __future__ import annotations

import re

from netops_agent.store import Store
from netops_agent.store.db import _names_pattern

SQL = [
    'INSERT INTO "ticket_events" (a) VALUES (1)',
    "UPDATE tickets SET state = 'x' WHERE id = 'T1'",
    "SELECT * FROM telemetry_samples JOIN telemetry_series USING (id)",
    "SELECT ticket_event FROM ticketsx",  # neither name as a word
]


def test_one_pattern_per_set_of_names_and_the_same_matches() -> None:
    names = ["tickets", "ticket_events", "telemetry_series", "telemetry_samples", "incidents"]
    _names_pattern.cache_clear()
    first = _names_pattern(frozenset(names))
    assert _names_pattern(frozenset(reversed(names))) is first
    _names_pattern(frozenset(names[:2]))
    _names_pattern(frozenset(names))
    assert _names_pattern.cache_info().misses == 2  # built once per set
    fresh = re.compile(r"\b(?:" + "|".join(map(re.escape, names)) + r")\b", re.IGNORECASE)
    for sql in SQL:
        assert sorted(first.findall(sql)) == sorted(fresh.findall(sql)), sql


def test_held_rows_still_go_in_before_a_statement_that_names_their_table() -> None:
    store = Store(":memory:")
    with store.transaction():
        store.append_rows("meta", [{"key": "a", "value": "1"}])
        assert store.query("SELECT value FROM meta WHERE key = 'a'") == [{"value": "1"}]
        store.append_rows("meta", [{"key": "b", "value": "2"}])
        assert store.scalar("SELECT count(*) FROM META") == 2  # any case
    assert store.scalar("SELECT count(*) FROM meta") == 2


TRICKY = [
    *SQL,
    'INSERT INTO f4."tickets" SELECT * FROM m3."tickets"',
    "SELECT x_tickets, tickets_x, tickets2 FROM t",  # no name as a word
    "select * from TICKETS where ID = 1",
    'SELECT 1 FROM (SELECT 1 FROM "ticket_events" LIMIT 1)\nUNION ALL SELECT 2 FROM incidents',
    "UPDATE incidents SET status = u.status FROM (SELECT unnest(?) AS id) AS u WHERE incidents.id = u.id",
    "-- tickets in a comment still count\nSELECT 1",
    "SELECT max(ts) FROM telemetry_samples WHERE ts > ?",
    "",
]


def test_the_words_of_a_statement_name_what_the_pattern_finds() -> None:
    """`_words` (what a store's watch uses for ASCII statements and names) names exactly the
    tables the names' regex finds, for any subset of the names."""
    from netops_agent.store.db import _words

    names = ["tickets", "ticket_events", "telemetry_series", "telemetry_samples", "incidents", "meta"]
    for n in range(len(names)):
        watched = frozenset(names[n:] + names[: n // 2])
        for sql in TRICKY:
            by_regex = {m.lower() for m in _names_pattern(watched).findall(sql)} & watched
            assert set(watched & _words(sql)) == by_regex, (sql, watched)


def test_a_statement_with_other_than_ascii_text_is_read_by_the_pattern() -> None:
    store = Store(":memory:")
    with store.transaction():
        store.append_rows("meta", [{"key": "é", "value": "1"}])
        assert store.query("SELECT value FROM meta WHERE key = 'é'") == [{"value": "1"}]
