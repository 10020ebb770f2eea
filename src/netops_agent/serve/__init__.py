"""`netops-agent serve`: REST API and NOC dashboard over the DuckDB store (FastAPI + uvicorn)."""

from __future__ import annotations

from typing import Any

__all__ = ["create_app", "is_loopback"]

LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def is_loopback(host: str) -> bool:
    """Whether `host` is this machine only (binding elsewhere needs a token)."""
    return host in LOOPBACK or host.startswith("127.")


def create_app(*args: Any, **kwargs: Any) -> Any:
    """See `netops_agent.serve.app.create_app` (imported lazily: FastAPI is heavy)."""
    from netops_agent.serve.app import create_app as _create

    return _create(*args, **kwargs)
