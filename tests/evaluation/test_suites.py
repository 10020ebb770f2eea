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
