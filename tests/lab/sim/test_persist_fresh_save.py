"""A fresh save empties its tables with one probe (`Store.clear`) instead of a DELETE per
table: what it leaves is what it left before, on an empty store and on one holding another
twin's rows; a later save still replaces the tables it rewrites."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from netops_agent.lab.sim import persist
from netops_agent.lab.sim.lab import SimLab
from netops_agent.store import Store

_VOLATILE = {"created_at"}  # lab_state's wall-clock stamp


def _rows(store: Store) -> dict[str, list[tuple]]:
    out = {}
    for table in persist._SAVED:
        rows = store.query(f'SELECT * FROM "{table}"')
        out[table] = sorted(tuple(v for k, v in r.items() if k not in _VOLATILE) for r in rows)
    return out


def _statements(store: Store, run: Callable[[], None]) -> list[str]:
    seen: list[str] = []
    fetch = store._fetch

    def spy(sql: str, params: Any = None) -> Any:
        seen.append(re.sub(r"\s+", " ", sql))
        return fetch(sql, params)

    store._fetch = spy  # type: ignore[method-assign]
    try:
        run()
    finally:
        del store._fetch
    return seen


def test_a_fresh_save_over_another_twin_leaves_what_a_save_into_an_empty_store_leaves() -> None:
    lab = SimLab.build("small", seed=42)
    lab.advance(30)
    other = SimLab.build("medium", seed=7)
    other.advance(20)
    with Store(":memory:") as clean, Store(":memory:") as dirty:
        persist.save(lab, clean, fresh=True)
        persist.save(other, dirty, fresh=True)
        assert _rows(dirty) != _rows(clean)
        persist.save(lab, dirty, fresh=True)
        assert _rows(dirty) == _rows(clean)
        assert clean.scalar("SELECT count(*) FROM lab_state") == 1
        assert clean.scalar("SELECT count(*) FROM devices") == len(lab.inv.devices)


def test_a_fresh_save_into_an_empty_store_deletes_nothing_and_a_later_save_replaces() -> None:
    lab = SimLab.build("small", seed=42)
    lab.advance(30)
    with Store(":memory:") as store:
        sent = _statements(store, lambda: persist.save(lab, store, fresh=True))
        assert not [s for s in sent if s.upper().startswith("DELETE")], sent
        first = _rows(store)
        lab.configure("site1-leaf1", ["interface GigabitEthernet0/1", " description changed"])
        lab.advance(20)
        persist.save(lab, store)
        after = _rows(store)
        assert store.scalar("SELECT count(*) FROM lab_state") == 1
        assert len(after["device_config"]) == len(first["device_config"])
        assert after["device_config"] != first["device_config"]
        assert after["interface_counters"] != first["interface_counters"]
        for table in ("sites", "devices", "interfaces", "links", "bgp_sessions", "prefixes"):
            assert after[table] == first[table], table
        assert persist.load(store).config_text("site1-leaf1") == lab.config_text("site1-leaf1")
