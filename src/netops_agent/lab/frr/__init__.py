"""FRR backend: real FRRouting routers in Linux network namespaces.

Public API: `frr_inventory` and `render_frr_config` (the profile and its golden
configs), `FrrLab` (the `Lab` implementation), `FrrFaultInjector` (real faults),
`down` (tear a lab down from its runtime directory) and `missing_prerequisites` /
`check_prerequisites` (what this host lacks, with how to install it).
"""

from netops_agent.lab.frr.faults import FrrFaultInjector
from netops_agent.lab.frr.lab import FrrLab
from netops_agent.lab.frr.system import check_prerequisites, missing_prerequisites
from netops_agent.lab.frr.topology import PROFILES, frr_inventory, render_frr_config

down = FrrLab.down

__all__ = [
    "PROFILES",
    "FrrFaultInjector",
    "FrrLab",
    "check_prerequisites",
    "down",
    "frr_inventory",
    "missing_prerequisites",
    "render_frr_config",
]
