"""Write tests/data/runbooks-reworded.yaml from the shipped runbooks with
hand-reworded titles and symptom texts (checks, fixes and ids unchanged).

    python tests/data/reword.py src/netops_agent/data/runbooks.yaml tests/data/runbooks-reworded.yaml
"""

import sys
from pathlib import Path

import yaml

REWORD = {
    "RB-DEVICE-UNREACHABLE": (
        "Router dark: no management answer, every adjacent box loses its port",
        "box gone silent, pollers time out, pings to the loopback get nothing back; "
        "each attached router reports its facing port dropped; routing peers and "
        "adjacencies to that node all lost at once; a cluster of port alarms around one node",
    ),
    "RB-LINK-FAILURE": (
        "Cable or fibre broken between two routers (no signal either side)",
        "both sides of the connection dropped while nobody disabled them; carrier lost, "
        "LOS, dark fiber, zero receive light; routing peer lost across it, traffic "
        "moved to the remaining paths, redundancy reduced, layer 1 problem, patch or span severed",
    ),
    "RB-IF-ADMIN-DOWN": (
        "Port disabled by configuration (shutdown command)",
        "port was turned off by an operator; the connection went away after someone "
        "edited the config; adjacent router and routing peers gone; the port reads disabled by admin",
    ),
    "RB-ERR-DISABLED": (
        "Switchport put into error-disable by a guard feature",
        "port blocked automatically after a protection trigger such as spanning-tree guard, "
        "flap detection or unidirectional-link detection; connection gone, adjacent router lost",
    ),
    "RB-OPTIC-DEGRADED": (
        "Failing transceiver (weak received signal, frame check errors)",
        "frame check sequence errors keep growing, corrupted frames, loss on flows "
        "crossing one port; received optical power weak, SFP or module wearing out, "
        "errors increasing on the receiving side only",
    ),
    "RB-DUPLEX-MISMATCH": (
        "Half/full setting differs at the two ends of a connection",
        "collisions after the first 64 bytes, receive errors, throughput poor, "
        "connection sluggish with drops; one side negotiated half, the other forced full",
    ),
    "RB-MTU-MISMATCH": (
        "Frame size differs across a connection (adjacency stuck exchanging databases)",
        "link-state neighbour never reaches full, hangs in exstart or exchange; big "
        "packets with don't-fragment set are lost, oversized frames discarded, "
        "the two sides disagree on maximum frame size",
    ),
    "RB-OSPF-TIMERS": (
        "Link-state hello and dead values disagree between neighbours",
        "no link-state neighbour on one connection even though the port is fine; "
        "the adjacency never forms because keepalive intervals differ; routes go around through other paths",
    ),
    "RB-BGP-ADMIN-SHUT": (
        "Routing peer turned off in the eBGP configuration",
        "eBGP neighbour idle because it was disabled by an operator; learned routes withdrawn, "
        "no prefixes from that neighbour any more, session deliberately off",
    ),
    "RB-BGP-ASN-MISMATCH": (
        "Peer autonomous system number configured wrong",
        "routing peer keeps failing to come up, open rejected with a notification about the "
        "peer's AS, neighbour configured with the wrong autonomous system after an edit",
    ),
    "RB-BGP-MAX-PREFIX": (
        "Peer dropped after sending more routes than the configured limit",
        "neighbour reset because its advertised route count went over the ceiling; route leak "
        "suspected, flood of prefixes from one neighbour, session held down by the limit",
    ),
    "RB-ROUTE-MISSING": (
        "Configured static entry gone (service network no longer reachable)",
        "a service network cannot be reached from parts of the fabric; the forwarding table "
        "lacks the destination; a fixed route was deleted from the configuration",
    ),
    "RB-ACL-BLOCKING": (
        "Packet filter rule dropping customer traffic after an edit",
        "customers on one subnet lost reachability just after a configuration change; "
        "filter rule matching and discarding their packets, permit list changed, hit counters climbing",
    ),
    "RB-HIGH-CPU": (
        "Processor pegged by one runaway task",
        "control plane busy near 100 percent, CLI sluggish, pollers time out; a single task "
        "such as a polling storm eats most of the processor",
    ),
    "RB-MEMORY-LEAK": (
        "RAM usage creeping up without release",
        "free memory shrinking minute by minute, allocations failing, heap nearly exhausted on one router",
    ),
    "RB-LINK-CONGESTION": (
        "Connection saturated by a traffic surge",
        "port running flat out near line rate, queues full and packets discarded on egress, "
        "delay and loss on flows across it, bandwidth exhausted",
    ),
}

HEADER = (
    "# The shipped runbooks with every title and symptom text reworded by hand (issue 11):\n"
    "# same ids, fault types, checks, fixes and escalations. Regenerate with tests/data/reword.py;\n"
    "# tests/knowledge/test_reworded.py reruns the catalog suite with this file.\n"
)


def reword(src: Path) -> str:
    book = yaml.safe_load(src.read_text())
    ids = {rb["id"] for rb in book["runbooks"]}
    assert ids == set(REWORD), ids ^ set(REWORD)
    for rb in book["runbooks"]:
        rb["title"], rb["symptoms"] = REWORD[rb["id"]]
    return HEADER + yaml.safe_dump(book, sort_keys=False, width=100)


if __name__ == "__main__":
    Path(sys.argv[2]).write_text(reword(Path(sys.argv[1])))
