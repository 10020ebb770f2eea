"""A `WITH ... SELECT` is a read: what a store remembers of the tables it names stays
(the intake's analytic queries start with WITH); a WITH that writes still forgets."""

from __future__ import annotations

from netops_agent.store import Store


def test_a_with_query_keeps_what_is_remembered_and_a_with_write_does_not() -> None:
    mem = Store(":memory:")
    mem.remember("k", 1, tables=("tickets",))
    mem.query("WITH t AS (SELECT * FROM tickets) SELECT count(*) FROM t")
    assert mem.recall("k") == 1
    mem.query("  with t as (select id from tickets)\nselect * from t")
    assert mem.recall("k") == 1
    mem.query("WITH t AS (SELECT 1 AS x) SELECT 'an insert' AS s FROM tickets")
    assert mem.recall("k") is None  # the word INSERT anywhere counts as a write: forgetting is safe
    mem.remember("k", 2, tables=("tickets",))
    mem.execute("INSERT INTO meta WITH t AS (SELECT 'a' AS k, 'b' AS v) SELECT * FROM t")
    assert mem.recall("k") == 2  # a write that does not name the table
    mem.execute(
        "WITH t AS (SELECT id FROM tickets) UPDATE tickets SET state = 'x' WHERE id IN (SELECT id FROM t)"
    )
    assert mem.recall("k") is None
    mem.close()
