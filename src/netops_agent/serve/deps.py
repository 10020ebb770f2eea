"""Shared pieces of request handling: the database lease and the lab clock."""

from __future__ import annotations

from datetime import datetime

from fastapi import Request

from netops_agent.serve.db import StoreAccess
from netops_agent.store import Store
from netops_agent.store.db import utcnow


def access(request: Request) -> StoreAccess:
    return request.app.state.access


def lab_clock(store: Store) -> datetime:
    """The lab's clock (the twin's time) for human decisions, as the CLI records them."""
    return store.scalar("SELECT clock FROM lab_state WHERE id = 1") or utcnow()
