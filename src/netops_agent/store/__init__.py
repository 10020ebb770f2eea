"""Storage: the only package that talks to DuckDB."""

from netops_agent.store.db import Store

__all__ = ["Store"]
