"""A running config still the twin's copy of the golden one shows the golden text (rendered
once for both); a configured device, a repaired one and a loaded twin show what rendering
their running config afresh gives."""

from __future__ import annotations

from netops_agent.lab.sim import config as ios
from netops_agent.lab.sim import persist
from netops_agent.lab.sim.control import SimControl
from netops_agent.lab.sim.faults import SimFaults
from netops_agent.lab.sim.lab import SimLab
from netops_agent.models import FaultSpec
from netops_agent.store import Store


def _fresh_texts(lab: SimLab) -> dict[str, str]:
    return {d: ios.render(cfg) for d, cfg in lab.configs.items()}


def _texts(lab: SimLab) -> dict[str, str]:
    return {d: lab.config_text(d) for d in lab.configs}


def test_an_untouched_twin_shows_its_golden_texts() -> None:
    lab = SimLab.build("small", seed=42)
    assert _texts(lab) == _fresh_texts(lab)
    for d in lab.configs:
        assert lab.config_text(d) is lab.config_text(d, golden=True)  # one rendering for both


def test_a_configured_device_shows_its_new_config() -> None:
    lab = SimLab.build("small", seed=42)
    dev = "site1-leaf1"
    itf = next(iter(lab.configs[dev].interfaces))
    lab.configure(dev, [f"interface {itf}", " description changed by a test"])
    texts = _texts(lab)
    assert texts == _fresh_texts(lab)
    assert "changed by a test" in texts[dev]
    assert texts[dev] != lab.config_text(dev, golden=True)
    others = [d for d in lab.configs if d != dev]
    assert all(texts[d] == lab.config_text(d, golden=True) for d in others)


def test_faults_and_their_repair_show_what_rendering_gives() -> None:
    lab = SimLab.build("small", seed=42)
    ctl = SimControl(lab)
    faults = SimFaults(lab).inject_all(
        [FaultSpec(type=t, target="auto") for t in ("bgp_neighbor_shutdown", "mtu_mismatch")],
        seed=3,
    )
    changed = {d for d in lab.configs if lab.config_text(d) != lab.config_text(d, golden=True)}
    assert changed and _texts(lab) == _fresh_texts(lab)
    before = lab.state_hash()
    for fault in faults:
        ctl.repair(fault)
    lab.commit()
    assert _texts(lab) == _fresh_texts(lab)
    assert all(lab.config_text(d) == lab.config_text(d, golden=True) for d in lab.configs)
    assert lab.state_hash() != before


def test_a_loaded_twin_renders_its_running_configs() -> None:
    lab = SimLab.build("small", seed=42)
    dev = "site1-leaf1"
    itf = next(iter(lab.configs[dev].interfaces))
    lab.configure(dev, [f"interface {itf}", " description saved and loaded"])
    store = Store(":memory:")
    persist.save(lab, store, fresh=True)
    again = persist.load(store)
    assert _texts(again) == _fresh_texts(again) == _texts(lab)
