"""Rule 1 of the architecture: intake never sees ground truth; it gets a NetworkView only."""

from __future__ import annotations

from netops_agent.intake import run_intake
from netops_agent.models import InjectedFault
from tests.intake.conftest import twin


def test_intake_result_does_not_depend_on_the_ground_truth() -> None:
    """Same twin state, ground truth replaced by a lie: the same incidents come out."""
    tw = twin({"type": "bgp_neighbor_shutdown"})
    honest = [(i.title, i.device, i.peer, i.severity) for i in tw.result.incidents]
    assert honest
    tw.lab.ground_truth[:] = [
        InjectedFault(id="F9", type="device_unreachable", target={"device": "site1-edge1"})
    ]
    tw.store.execute("UPDATE alerts SET incident_id = NULL, state = 'cleared'")
    again = run_intake(tw.view, tw.store, scope="t2").incidents
    assert [(i.title, i.device, i.peer, i.severity) for i in again] == honest
