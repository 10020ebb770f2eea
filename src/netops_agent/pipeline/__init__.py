"""The case pipeline: one way to run a case on any backend (see `pipeline.case`).

It is the only code besides the evaluation harness that holds a lab's control
face: it injects faults, records them in the `TruthStore`, and hands the agent and
the intake nothing but the sealed `NetworkView`. The harness depends on it, never
the other way round.
"""

from netops_agent.pipeline.backends import BACKENDS, Backend, FrrRunConfig, backend_for
from netops_agent.pipeline.case import (
    CaseResult,
    CaseTruth,
    RunOptions,
    RunReport,
    check_run,
    open_incident,
    open_incidents,
    run_case,
    run_suite,
)
from netops_agent.pipeline.registry import AGENTS, INTAKES, ORACLE, lookup
from netops_agent.services import Services, ensure_index
from netops_agent.store.truth import TruthStore, truth_path

__all__ = [
    "AGENTS",
    "BACKENDS",
    "INTAKES",
    "ORACLE",
    "Backend",
    "CaseResult",
    "CaseTruth",
    "FrrRunConfig",
    "RunOptions",
    "RunReport",
    "Services",
    "TruthStore",
    "backend_for",
    "check_run",
    "ensure_index",
    "lookup",
    "open_incident",
    "open_incidents",
    "run_case",
    "run_suite",
    "truth_path",
]
