"""Save and load the twin in DuckDB so every CLI call can pick up the same network.

Inventory tables are written once per lab through Arrow; configs, condition, clock
and counters are replaced on each save; events and telemetry are appended. One
save is one transaction: a crash never leaves half a twin behind.
"""

from __future__ import annotations

import json
from datetime import datetime

import numpy as np
import pyarrow as pa

from netops_agent.errors import LabError
from netops_agent.lab.sim import config as ios
from netops_agent.lab.sim.lab import SimLab
from netops_agent.lab.sim.state import Conditions
from netops_agent.lab.sim.syslog import LogEvent
from netops_agent.lab.sim.telemetry import COUNTERS
from netops_agent.models import (
    BgpSession,
    Device,
    Interface,
    Inventory,
    Link,
    Site,
)
from netops_agent.store import Store
from netops_agent.store.db import utcnow
from netops_agent.store.telemetry import numeric_array

_INVENTORY = [
    ("sites", Site),
    ("devices", Device),
    ("interfaces", Interface),
    ("links", Link),
    ("bgp_sessions", BgpSession),
]


# Arrow tables of inventory lists that twins share (`topology.generated`): id -> (list, table)
_SHARED_TABLES: dict[int, tuple[list, pa.Table]] = {}


def _rows_table(rows: list, model: type) -> pa.Table:
    """The records as an Arrow table, a column per field. Columns are typed from the
    field's annotation where it is plainly text or an integer (what pyarrow would infer
    from the values): inferring a column's type costs pyarrow ~0.15 ms a column."""
    return pa.table(
        {c: pa.array([getattr(r, c) for r in rows], typ) for c, typ in _column_types(model).items()}
    )


_TYPES: dict[type, dict[str, pa.DataType | None]] = {}


def _column_types(model: type) -> dict[str, pa.DataType | None]:
    """Field -> Arrow type: string for str and string literals, int64 for int (optional or
    not, bool excluded); None (inferred from the values) for anything else."""
    import types
    import typing

    found = _TYPES.get(model)
    if found is None:
        found = {}
        for name, info in model.model_fields.items():  # type: ignore[attr-defined]
            ann = info.annotation
            args = typing.get_args(ann)
            if typing.get_origin(ann) in (typing.Union, types.UnionType) and type(None) in args:
                rest = [a for a in args if a is not type(None)]
                ann = rest[0] if len(rest) == 1 else ann
            if ann is str or (
                typing.get_origin(ann) is typing.Literal and all(type(a) is str for a in typing.get_args(ann))
            ):
                found[name] = pa.string()
            elif ann is int:
                found[name] = pa.int64()
            else:
                found[name] = None
        _TYPES[model] = found
    return found


def _inventory_table(inv: Inventory, table: str, model: type) -> pa.Table:
    """`_rows_table` of one inventory list. A lab's inventory is never changed but for the
    criticality of its sites and devices (`topology.own_inventory`), so the other lists'
    tables are made once for all the twins that share them (each case of an evaluation)."""
    rows = getattr(inv, table)
    if table in ("sites", "devices"):
        return _rows_table(rows, model)
    kept = _SHARED_TABLES.get(id(rows))
    if kept is None or kept[0] is not rows or kept[1].num_rows != len(rows):
        if len(_SHARED_TABLES) >= 16:
            _SHARED_TABLES.clear()
        kept = _SHARED_TABLES[id(rows)] = (rows, _rows_table(rows, model))
    return kept[1]


# What a save replaces: with `fresh`, every one of these tables; otherwise the last three.
_SAVED = (*(table for table, _ in _INVENTORY), "prefixes", "device_config", "lab_state", "interface_counters")


def save(lab: SimLab, store: Store, *, fresh: bool = False) -> None:
    """Write the twin; `fresh=True` also (re)writes the inventory and golden configs.

    Each table is replaced: its rows deleted, the twin's appended. A fresh save empties
    its nine tables with one query and only the DELETEs they need (`Store.clear`: a fresh
    stage's tables hold no rows) instead of nine DELETEs; a later save replaces the three
    that always hold rows by then."""
    with store.transaction():
        if fresh:
            store.clear(_SAVED)
            for table, model in _INVENTORY:
                store.append_arrow(table, _inventory_table(lab.inv, table, model))
            prefixes = lab.inv.prefixes
            store.append_arrow(
                "prefixes",
                pa.table(
                    {
                        "device": pa.array([d for d, ps in prefixes.items() for _ in ps], pa.string()),
                        "prefix": pa.array([p for ps in prefixes.values() for p in ps], pa.string()),
                    }
                ),
            )
        replace = store.append_arrow if fresh else store.replace_table
        names = sorted(lab.configs)
        replace(
            "device_config",
            pa.table(
                {
                    "device": pa.array(names, pa.string()),
                    "golden": pa.array([lab.config_text(d, golden=True) for d in names], pa.string()),
                    "running": pa.array([lab.config_text(d) for d in names], pa.string()),
                    "updated_at": pa.array([lab.clock] * len(names), pa.timestamp("us")),
                }
            ),
        )
        state = {"conditions": lab.cond.to_json(), "jitter": lab.jitter, "spikes": lab.spikes}
        if not fresh:
            store.execute("DELETE FROM lab_state")
        store.insert(
            "lab_state",
            {
                "id": 1,
                "backend": "sim",
                "profile": lab.profile,
                "seed": lab.seed,
                "clock": lab.clock,
                "state": state,
                "created_at": utcnow(),
            },
        )
        counters = {
            "device": pa.array([k[0] for k in lab.idx.keys], pa.string()),
            "interface": pa.array([k[1] for k in lab.idx.keys], pa.string()),
        }
        counters |= {c: numeric_array(lab.counters[:, i], pa.float64()) for i, c in enumerate(COUNTERS)}
        replace("interface_counters", pa.table(counters))
        flush(lab, store)


def flush(lab: SimLab, store: Store) -> None:
    """Append the syslog and telemetry the twin produced that the store does not hold yet.

    The twin is its own syslog server and telemetry collector: what it produced since
    the latest row in `events` / `telemetry` is appended (the intake appends the same
    way from the network view, so whichever writes first, nothing is written twice).
    """
    store.append_newer("events", lab.logs_since)
    store.append_newer("telemetry", lab.telemetry_since)


def load(store: Store) -> SimLab:
    """Rebuild the twin saved in `store`."""
    row = store.query_one("SELECT * FROM lab_state WHERE id = 1")
    if row is None or row["backend"] != "sim":
        raise LabError(
            f"no twin in {store.path}; start one with `netops-agent lab up --backend sim` "
            "or `netops-agent run`"
        )
    inv = load_inventory(store)
    configs = {r["device"]: r for r in store.query("SELECT * FROM device_config")}
    golden = {d: ios.parse(r["golden"], d) for d, r in configs.items()}
    running = {d: ios.parse(r["running"], d) for d, r in configs.items()}
    state = json.loads(row["state"])
    counters_tbl = store.arrow(
        "SELECT c.* FROM interface_counters c JOIN interfaces i "
        "ON c.device = i.device AND c.interface = i.name"
    )
    lab = SimLab(
        inv,
        golden,
        profile=row["profile"],
        seed=int(row["seed"]),
        running=running,
        conditions=Conditions.from_json(state["conditions"]),
        clock=_naive(row["clock"]),
        jitter=float(state.get("jitter", 0.0)),
    )
    lab.spikes = state.get("spikes", {})
    _restore_counters(lab, counters_tbl)
    lab.history = [
        LogEvent(_naive(r["ts"]), r["device"], r["facility"], r["severity"], r["mnemonic"], r["message"])
        for r in store.query("SELECT * FROM events ORDER BY ts")
    ]
    return lab


def load_inventory(store: Store) -> Inventory:
    parts = {
        table: [model.model_construct(**r) for r in store.query(f'SELECT * FROM "{table}"')]
        for table, model in _INVENTORY
    }
    prefixes: dict[str, list[str]] = {}
    for r in store.query("SELECT device, prefix FROM prefixes"):
        prefixes.setdefault(r["device"], []).append(r["prefix"])
    return Inventory.model_construct(**parts, prefixes=prefixes)


def _restore_counters(lab: SimLab, tbl: pa.Table) -> None:
    names = zip(tbl["device"].to_pylist(), tbl["interface"].to_pylist(), strict=True)
    pos = [lab.idx.pos[key] for key in names]
    for j, c in enumerate(COUNTERS):
        lab.counters[pos, j] = np.asarray(tbl[c].to_numpy(zero_copy_only=False))


def _naive(ts: datetime) -> datetime:
    return ts.replace(tzinfo=None) if ts.tzinfo else ts
