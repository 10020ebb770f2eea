"""Knowledge: runbooks, their TF-IDF index in DuckDB, and retrieval.

Names are imported lazily (PEP 562), so `from netops_agent.knowledge.schema import ...`
does not load the index, DuckDB helpers or the analyzer; scikit-learn is imported only
inside `build_index` (the fit), never to answer a query.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "Hit": "netops_agent.knowledge.index",
    "TfidfRetriever": "netops_agent.knowledge.index",
    "build_index": "netops_agent.knowledge.index",
    "stored_runbooks": "netops_agent.knowledge.index",
    "Runbook": "netops_agent.knowledge.schema",
    "load_runbooks": "netops_agent.knowledge.schema",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
