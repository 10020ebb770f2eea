"""The built-in suites: versioned, hashed, and covering what they promise."""

from __future__ import annotations

from collections import defaultdict

from netops_agent.catalog import CATALOG
from netops_agent.evaluation.scenario import builtin_suites, load_suite


def test_builtin_suites_load_with_a_version_and_a_content_hash() -> None:
    assert {"smoke", "catalog", "hard"} <= set(builtin_suites())
    for name in ("smoke", "catalog", "hard"):
        s = load_suite(name)
        assert s.name == name and s.version >= 1 and len(s.digest) == 16


def test_smoke_is_a_handful() -> None:
    s = load_suite("smoke")
    assert 3 <= len(s.cases) <= 8
    assert any(not c.faults for c in s.cases)
    assert {c.expected_outcome() for c in s.cases} == {"resolved", "escalated", "no_action"}


def test_catalog_covers_every_fault_type_three_times_plus_healthy_cases() -> None:
    s = load_suite("catalog")
    assert s.topology.profile == "small"
    seeds: dict[str, set[int]] = defaultdict(set)
    for c in s.cases:
        assert len(c.faults) <= 1
        for f in c.faults:
            seeds[f.type].add(c.seed)
    assert set(seeds) == set(CATALOG)
    assert all(len(v) >= 3 for v in seeds.values())
    assert sum(not c.faults for c in s.cases) >= 3


def test_hard_has_simultaneous_faults_noise_and_noisy_healthy_cases() -> None:
    s = load_suite("hard")
    sizes = {len(c.faults) for c in s.cases}
    assert {2, 3} <= sizes
    assert any(c.noise.transient_spikes for c in s.cases if c.faults)
    healthy = [c for c in s.cases if not c.faults]
    assert len(healthy) >= 2 and all(c.noise.transient_spikes for c in healthy)
    # look-alike pairs: the same symptom family injected alone, case by case
    single = {c.faults[0].type for c in s.cases if len(c.faults) == 1}
    assert {"interface_admin_down", "link_failure", "err_disabled_port"} <= single
    assert {"optic_degradation", "duplex_mismatch"} <= single
    assert any(c.expect.outcome for c in s.cases), "a case whose expectation differs from the catalog's"


def test_placement_puts_faults_on_every_role_both_ends_and_twice() -> None:
    from netops_agent.lab.sim.lab import SimLab

    s = load_suite("placement")
    inv = SimLab.build(s.topology.profile, s.topology.seed).inv
    role = {d.name: d.role for d in inv.devices}
    explicit = [(c, f) for c in s.cases for f in c.faults if f.target != "auto"]
    assert {role[f.target["device"]] for _, f in explicit} == {"leaf", "spine", "edge"}
    pairs = [c for c in s.cases if len(c.faults) == 2 and all(f.target != "auto" for f in c.faults)]

    def cable(f) -> str | None:  # type: ignore[no-untyped-def]
        itf = f.target.get("interface")
        link = inv.link_of(f.target["device"], itf) if itf else None
        return link.id if link else None

    both_ends = [c for c in pairs if cable(c.faults[0]) and cable(c.faults[0]) == cable(c.faults[1])]
    same_device = [c for c in pairs if c.faults[0].target["device"] == c.faults[1].target["device"]]
    assert any(c.faults[0].target["device"] != c.faults[1].target["device"] for c in both_ends)
    assert any(c.faults[0].type != c.faults[1].type for c in both_ends), "two faults on one cable"
    assert any(c.faults[0].type != c.faults[1].type for c in same_device), "two faults on one device"
    assert any(len(c.faults) == 2 and c.faults[0].type == c.faults[1].type for c in s.cases)
    assert any(not c.faults for c in s.cases)


def test_stress_has_four_or_five_faults_heavy_noise_and_noisy_healthy_cases() -> None:
    s = load_suite("stress")
    assert {len(c.faults) for c in s.cases if c.faults} == {4, 5}
    assert all(c.noise.transient_spikes >= 10 and c.noise.counter_jitter >= 0.2 for c in s.cases)
    assert sum(not c.faults for c in s.cases) >= 2
