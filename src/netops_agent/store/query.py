"""Small SQL builders shared by the read views (CLI listings, the web API and dashboard):
a WHERE clause from optional filters, one page of a listing, JSON columns decoded."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from netops_agent.store.db import Store


def where(filters: Mapping[str, Any]) -> tuple[str, list[Any]]:
    """` WHERE a = ? AND b = ?` over the filters that are set (None and "" are left out);
    keys are column names or SQL expressions."""
    used = [(column, value) for column, value in filters.items() if value is not None and value != ""]
    if not used:
        return "", []
    return " WHERE " + " AND ".join(f"{column} = ?" for column, _ in used), [v for _, v in used]


def page(
    store: Store,
    select: str,
    filters: Mapping[str, Any],
    order_by: str,
    *,
    limit: int | None = None,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Rows of `select` (a SELECT ... FROM ...) that match `filters`, in `order_by`, one page
    (`limit` rows from `offset`; all of them when `limit` is None)."""
    clause, params = where(filters)
    sql = f"{select}{clause} ORDER BY {order_by}"
    if limit is not None:
        sql += " LIMIT ? OFFSET ?"
        params += [limit, offset]
    return store.query(sql, params)


def count(store: Store, select: str, filters: Mapping[str, Any]) -> int:
    """How many rows `page` would return over all pages."""
    clause, params = where(filters)
    return int(store.scalar(f"SELECT count(*) FROM ({select}{clause})", params) or 0)


def decode_json(value: Any) -> Any:
    """A JSON text column decoded (anything else, or text that is not JSON, unchanged)."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
