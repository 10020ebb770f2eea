"""Safety: change policy, approvals, pre/post snapshots and collateral-damage checks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from netops_agent.safety.policy import Policy, load_policy

__all__ = ["Policy", "load_policy"]


def __getattr__(name: str) -> Any:
    """`Policy` and `load_policy` load on first use: the policy pulls in the tool registry
    (hier_config, ntc-templates), which readers of approvals (`serve`, `approvals`) never need."""
    if name in __all__:
        from netops_agent.safety import policy

        return getattr(policy, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
