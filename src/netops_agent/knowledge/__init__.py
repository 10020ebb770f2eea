"""Knowledge: runbooks, their TF-IDF index in DuckDB, and retrieval."""

from netops_agent.knowledge.index import Hit, TfidfRetriever, build_index, stored_runbooks
from netops_agent.knowledge.schema import Runbook, load_runbooks

__all__ = ["Hit", "Runbook", "TfidfRetriever", "build_index", "load_runbooks", "stored_runbooks"]
