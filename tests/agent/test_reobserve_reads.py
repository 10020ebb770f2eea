"""The re-observation reads only what it checks, and sees what a whole-device read would.

`Reobserver` reads each device once per pass: `show interfaces NAME` when one of its
interfaces is wanted (a spine's whole `show interfaces` is long to parse), the whole
device when several are. These tests pin that choice, that the rows are those of the
whole-device read at the same moment, and that the clock and the number of tool calls
are those of one read per device per pass (so the demo's outcomes do not move).
"""

from __future__ import annotations

from typing import Any

from netops_agent.diagnosis import Reobserver
from netops_agent.lab.sim.control import sim_view
from netops_agent.lab.sim.lab import SimLab
from netops_agent.models import Incident, Suspect
from netops_agent.tools import Recorder, ToolExecutor

LEAF, SPINE = "site1-leaf1", "site1-spine1"
GI0 = "GigabitEthernet0/0"
SPINE_GI = "GigabitEthernet0/3"  # leaf1 Gi0/0's far end for seed 42


class ListRecorder(Recorder):
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def tool_call(self, row: dict[str, Any]) -> None:
        self.calls.append(row)

    def change(self, row: dict[str, Any]) -> None:
        pass


def _lab() -> SimLab:
    lab = SimLab.build("small", seed=42)
    _ = lab.derived
    return lab


def _reobserve(lab: SimLab, incident: Incident) -> tuple[list[str], list[str], ListRecorder, ToolExecutor]:
    rec = ListRecorder()
    ex = ToolExecutor(sim_view(lab), rec, reuse_reads=True)
    reob = Reobserver(ex, lab.inv, ex.wait)
    return reob.problems(incident), reob.seen, rec, ex


def _incident(**kw: Any) -> Incident:
    return Incident(id="IM-T", title="t", summary="t", severity="medium", **kw)


def test_one_wanted_interface_is_read_by_name_from_both_ends() -> None:
    lab = _lab()
    bad, seen, rec, _ = _reobserve(lab, _incident(device=LEAF, interface=GI0))
    assert bad == []
    assert [s.split(",")[0] for s in seen] == [f"{LEAF} {GI0} up", f"{SPINE} {SPINE_GI} up"]
    commands = [(c["device"], c["command"]) for c in rec.calls]
    assert (
        commands
        == [
            (LEAF, f"show interfaces {GI0}"),
            (SPINE, f"show interfaces {SPINE_GI}"),
        ]
        * 2
    ), "one read per device per pass, before and after the wait"
    assert all(len(c["parsed"]) == 1 for c in rec.calls)


def test_the_named_read_gives_the_whole_device_reads_row_at_the_same_moment() -> None:
    """Two twins in the same state: the row of `show interfaces NAME` is the whole read's row."""
    faulty = []
    for _ in range(2):
        lab = _lab()
        lab.configs[LEAF].interfaces[GI0].shutdown = True
        lab.commit()
        faulty.append(lab)
    rec_one, rec_all = ListRecorder(), ListRecorder()
    one = ToolExecutor(sim_view(faulty[0]), rec_one).run("show_interfaces", SPINE, interface=SPINE_GI)
    every = ToolExecutor(sim_view(faulty[1]), rec_all).run("show_interfaces", SPINE)
    assert faulty[0].clock == faulty[1].clock
    row = {r["interface"]: r for r in every.parsed}[SPINE_GI]
    assert one.parsed == [row]
    assert (row["link_status"], row["protocol_status"]) == ("down", "down")


def test_a_fault_is_still_seen_and_the_clock_moves_as_for_whole_reads() -> None:
    lab = _lab()
    lab.configs[LEAF].interfaces[GI0].shutdown = True
    lab.commit()
    start = lab.clock
    bad, seen, rec, _ = _reobserve(lab, _incident(device=LEAF, interface=GI0))
    assert bad == [f"{LEAF} {GI0}", f"{SPINE} {SPINE_GI}"]
    assert seen[0].startswith(f"{LEAF} {GI0} down, util ")
    # four commands (2 s each on the twin's clock) and the 10 s wait between the passes
    assert len(rec.calls) == 4
    assert (lab.clock - start).total_seconds() == 4 * 2.0 + 10.0


def test_several_wanted_interfaces_on_a_device_are_one_whole_read() -> None:
    lab = _lab()
    wanted = [n for n in sorted(lab.configs[LEAF].interfaces) if lab.inv.link_of(LEAF, n)]
    assert len(wanted) >= 2
    incident = _incident(
        device=LEAF,
        suspects=[Suspect(kind="interface", device=LEAF, interface=n) for n in wanted[:2]],
    )
    _, seen, rec, _ = _reobserve(lab, incident)
    leaf_reads = [c["command"] for c in rec.calls if c["device"] == LEAF]
    assert leaf_reads == ["show interfaces", "show interfaces"]
    assert {s.split()[1] for s in seen if s.startswith(LEAF)} == set(wanted[:2])
    assert len(rec.calls) == 2 * len({c["device"] for c in rec.calls})


def test_the_reobservation_reads_the_device_again_not_the_diagnosis_read() -> None:
    """A read the diagnosis made in the same pass is not reused: the first reads go to the
    devices (the agent's executor reuses reads within a pass)."""
    lab = _lab()
    rec = ListRecorder()
    ex = ToolExecutor(sim_view(lab), rec, reuse_reads=True)
    ex.run("show_interfaces", LEAF, interface=GI0)  # diagnosis
    assert ex.run("show_interfaces", LEAF, interface=GI0) is not None and len(rec.calls) == 1
    Reobserver(ex, lab.inv, ex.wait).problems(_incident(device=LEAF, interface=GI0))
    assert len(rec.calls) == 1 + 4
