"""What every case shares: the store, the runbooks and their index, the ticket system.

Agent-side code (the agent, the baselines, `resume`) and the case pipeline both use
`Services`; it holds nothing about the lab and nothing about injected faults.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from netops_agent.knowledge import Runbook, TfidfRetriever, build_index, load_runbooks, stored_runbooks
from netops_agent.store import Store
from netops_agent.tickets import TicketService


@dataclass
class Services:
    store: Store
    runbooks: dict[str, Runbook]
    retriever: TfidfRetriever
    tickets: TicketService

    @classmethod
    def open(cls, store: Store, runbooks: Path | None = None) -> Services:
        """Services over `store`; the runbook index is rebuilt only when the runbooks changed."""
        books = ensure_index(store, runbooks)
        return cls(store, books, TfidfRetriever(store), TicketService(store))


@functools.lru_cache(maxsize=4)
def _parsed_runbooks(path: Path | None) -> tuple[Runbook, ...]:
    return tuple(load_runbooks(path))


def ensure_index(store: Store, runbooks: Path | None = None) -> dict[str, Runbook]:
    """Load and validate runbooks (parsed once per process); rebuild the TF-IDF index if they
    changed. Returns the runbooks as stored."""
    refresh_index(store, runbooks)
    return stored_runbooks(store)


def runbooks_digest(runbooks: Path | None = None) -> str:
    """The `meta` value (`knowledge.index.HASH_KEY`) of a store whose index is up to date for
    these runbooks (parsed and validated once per process) and the current analyzer."""
    from netops_agent.knowledge.text import current_analyzer

    return _digest(runbooks, current_analyzer()[1])


@functools.lru_cache(maxsize=4)
def _digest(runbooks: Path | None, analyzer: str) -> str:
    """`index_digest` of the runbooks at `runbooks` for the analyzer fingerprinted `analyzer`:
    hashing them (JSON of every runbook) cost ~12 ms, and a run asked three times. Both its
    inputs are fixed for the process once read (`_parsed_runbooks`, `text.analyzer`)."""
    from netops_agent.knowledge.index import index_digest

    return index_digest(list(_parsed_runbooks(runbooks)))


def refresh_index(store: Store, runbooks: Path | None = None) -> bool:
    """`ensure_index` without reading the runbooks back (for a caller that only needs the
    index up to date, say before copying it); True if it was rebuilt."""
    return build_index(store, list(_parsed_runbooks(runbooks)), digest=runbooks_digest(runbooks))
