"""The twin's inventory tables are built with column types read from the models: the same
Arrow tables pyarrow's inference makes from the values, and the same stored rows."""

from __future__ import annotations

import pyarrow as pa

from netops_agent.lab.sim import persist
from netops_agent.lab.sim.lab import SimLab
from netops_agent.models import Interface
from netops_agent.store import Store


def test_typed_tables_equal_inferred_ones() -> None:
    lab = SimLab.build("small", seed=42)
    for table, model in persist._INVENTORY:
        rows = getattr(lab.inv, table)
        inferred = pa.table({c: [getattr(r, c) for r in rows] for c in model.model_fields})
        assert persist._rows_table(rows, model).equals(inferred), table
    assert persist._column_types(Interface)["prefixlen"] == pa.int64()  # optional int


def test_an_all_empty_optional_column_stores_nulls_as_before() -> None:
    rows = [Interface(device="r1", name=f"Gi0/{n}", kind="p2p") for n in range(3)]  # no ip
    typed = persist._rows_table(rows, Interface)
    inferred = pa.table({c: [getattr(r, c) for r in rows] for c in Interface.model_fields})
    stored = []
    for data in (typed, inferred):
        store = Store(":memory:")
        store.replace_table("interfaces", data)
        stored.append(store.query("SELECT * FROM interfaces"))
    assert stored[0] == stored[1] and stored[0][0]["ip"] is None
