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
