"""Refresh the recorded FRR/iproute2 outputs in tests/frr/samples/ from a live lab.

Run as root on a host with FRR (the parser tests themselves need neither):

    PYTHONPATH=src python tests/frr/record_samples.py

It brings a lab up under the prefix `nops-rec`, provokes the states the samples
show (admin shutdown, a bad remote-as, an MTU mismatch, a cut cable, a blocked
prefix), records the raw answers, repairs everything and tears the lab down.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from netops_agent.lab.frr import FrrFaultInjector, FrrLab, frr_inventory
from netops_agent.models import FaultSpec

SAMPLES = Path(__file__).parent / "samples"


def save(name: str, text: str) -> None:
    (SAMPLES / name).write_text(text if text.endswith("\n") else text + "\n")
    print("recorded", name)


def main() -> None:
    SAMPLES.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="nops-rec-") as tmp:
        runtime = Path(tmp) / "lab"
        try:
            lab = FrrLab.up(frr_inventory(), runtime, prefix="nops-rec")
            record(lab, FrrFaultInjector(lab))
        finally:
            FrrLab.down(runtime)


def record(lab: FrrLab, fx: FrrFaultInjector) -> None:
    ex = lab.execute
    save("bgp_summary_healthy.json", ex("spine1", "show bgp summary json").text)
    save("ospf_neighbor_full.json", ex("spine1", "show ip ospf neighbor json").text)
    save("ip_route_leaf1.json", ex("leaf1", "show ip route json").text)
    save("ip_route_edge1.json", ex("edge1", "show ip route json").text)
    save("ip_addr_leaf1.json", ex("leaf1", "ip -j addr show").text)
    save("running_config_leaf1.txt", ex("leaf1", "show running-config").text)
    save("ping_ok.txt", ex("leaf1", "ping -c 3 -W 1 -i 0.2 -M dont 10.100.2.10").text)
    save("ping_unreachable.txt", ex("leaf1", "ping -c 2 -W 1 -i 0.2 10.99.0.1").text)
    faults = [
        fx.inject(FaultSpec(type="bgp_neighbor_shutdown", target={"device": "leaf1", "peer": "10.1.0.0"})),
        fx.inject(FaultSpec(type="bgp_asn_mismatch", target={"device": "leaf1", "peer": "10.1.0.8"})),
    ]
    time.sleep(2)
    save("bgp_summary_faults.json", ex("leaf1", "show bgp summary json").text)
    for f in faults:
        fx.repair(f)
    faults = [
        fx.inject(FaultSpec(type="mtu_mismatch", target={"device": "leaf2", "interface": "eth1"})),
        fx.inject(FaultSpec(type="interface_admin_down", target={"device": "leaf2", "interface": "eth2"})),
        fx.inject(FaultSpec(type="acl_blocking", target={"device": "leaf3", "interface": "Vlan100"})),
        fx.inject(FaultSpec(type="link_failure", target={"device": "edge1", "interface": "eth1"})),
    ]
    time.sleep(2)
    save("ospf_neighbor_exstart.json", ex("spine1", "show ip ospf neighbor json").text)
    links = ex("leaf2", "ip -s -s -j link show")
    save("ip_link_leaf2.json", links.text)
    save("ip_link_leaf2.meta.json", json.dumps(links.meta, indent=1))
    save("ip_link_edge1.json", ex("edge1", "ip -s -s -j link show").text)
    save("ping_fail.txt", ex("edge1", "ping -c 3 -W 1 -i 0.2 -M dont 10.100.3.10").text)
    save("logging_leaf2.txt", ex("leaf2", "show logging").text)
    save("logging_edge1.txt", ex("edge1", "show logging").text)
    for f in faults:
        fx.repair(f)


if __name__ == "__main__":
    main()
