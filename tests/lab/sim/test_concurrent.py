"""Commands issued side by side cost the twin's clock one command time, not one each."""

from __future__ import annotations

from datetime import timedelta

from netops_agent.lab.sim.lab import COMMAND_S, SimLab


def test_commands_in_a_batch_cost_one_command_time() -> None:
    lab = SimLab.build("small", seed=42)
    t0 = lab.now()
    lab.execute("site1-leaf1", "show version")
    assert lab.now() - t0 == timedelta(seconds=COMMAND_S)
    t1 = lab.now()
    with lab.concurrent():
        outs = [lab.execute(d.name, "ping 10.100.2.1") for d in lab.inventory().devices]
        assert lab.now() == t1  # the batch is still in flight
        with lab.concurrent():  # nesting joins the outer batch
            lab.execute("site1-leaf1", "show version")
    assert lab.now() - t1 == timedelta(seconds=COMMAND_S)
    assert all(o.ok for o in outs)
    t2 = lab.now()
    with lab.concurrent():
        pass
    assert lab.now() == t2  # an empty batch takes no time
    lab.execute("site1-leaf1", "show version")
    assert lab.now() - t2 == timedelta(seconds=COMMAND_S)
