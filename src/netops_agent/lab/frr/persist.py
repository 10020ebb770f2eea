"""The FRR lab in DuckDB: inventory, configs and where the lab runs.

The routers themselves are the state; the database records what the rest of the
project reads: the inventory tables (through Arrow, as for the twin), golden and
running configs, one `lab_state` row saying that the lab is the FRR backend and where
its runtime directory is (so `lab status`, `lab exec`, `lab inject` and `lab down`
in later processes find it, also after a crash). The injected faults are not here:
they live in the lab's state file and the case pipeline's TruthStore.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa

from netops_agent.lab.frr.lab import FrrLab
from netops_agent.models import BgpSession, Device, Interface, Inventory, Link, Site
from netops_agent.store import Store
from netops_agent.store.db import utcnow

BACKEND = "frr"
_INVENTORY = [
    ("sites", Site),
    ("devices", Device),
    ("interfaces", Interface),
    ("links", Link),
    ("bgp_sessions", BgpSession),
]


def record_lab(
    store: Store,
    *,
    runtime_dir: Path,
    prefix: str,
    profile: str,
    status: str,
    extra: dict[str, Any] | None = None,
) -> None:
    """Write the one `lab_state` row: backend frr, its runtime directory and status.

    Written before the lab is created (status "creating") so `lab down` finds the
    runtime directory even if `lab up` dies half-way, and again once it is up.
    """
    state = {"runtime_dir": str(runtime_dir), "prefix": prefix, "status": status, **(extra or {})}
    with store.transaction():
        store.execute("DELETE FROM lab_state")
        store.insert(
            "lab_state",
            {
                "id": 1,
                "backend": BACKEND,
                "profile": profile,
                "seed": 0,
                "clock": utcnow(),
                "state": state,
                "created_at": utcnow(),
            },
        )


def recorded_lab(store: Store) -> dict[str, Any] | None:
    """The FRR lab recorded in the store ({runtime_dir, prefix, status, profile, ...}), or None."""
    row = store.query_one("SELECT * FROM lab_state WHERE id = 1")
    if row is None or row["backend"] != BACKEND:
        return None
    state = row["state"]
    data = json.loads(state) if isinstance(state, str) else dict(state or {})
    return {**data, "profile": row["profile"]}


def save_inventory(store: Store, lab: FrrLab) -> None:
    """Inventory tables and golden/running configs, each replaced through Arrow."""
    inv = lab.inventory()
    with store.transaction():
        for table, model in _INVENTORY:
            store.replace_table(table, _rows_table(getattr(inv, table), model))
        store.replace_table("prefixes", _prefixes(inv))
        save_configs(store, lab)


def save_configs(store: Store, lab: FrrLab) -> None:
    names = lab.inventory().device_names()
    running = [lab.execute(d, "show running-config").text for d in names]
    store.replace_table(
        "device_config",
        pa.table(
            {
                "device": names,
                "golden": [lab.golden_config(d) for d in names],
                "running": running,
                "updated_at": pa.array([utcnow()] * len(names), pa.timestamp("us")),
            }
        ),
    )


def _rows_table(rows: list[Any], model: type) -> pa.Table:
    cols = list(model.model_fields)  # type: ignore[attr-defined]
    return pa.table({c: [getattr(r, c) for r in rows] for c in cols})


def _prefixes(inv: Inventory) -> pa.Table:
    return pa.table(
        {
            "device": pa.array([d for d, ps in inv.prefixes.items() for _ in ps], pa.string()),
            "prefix": pa.array([p for ps in inv.prefixes.values() for p in ps], pa.string()),
        }
    )
