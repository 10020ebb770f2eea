"""Safety: change policy, approvals, pre/post snapshots and collateral-damage checks."""

from netops_agent.safety.policy import Policy, load_policy

__all__ = ["Policy", "load_policy"]
