"""detection.yaml: shipped rules load, user files override by name, bad files fail clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from netops_agent.errors import InputFileError, RegistryError
from netops_agent.intake import DETECTORS, DetectorRegistry, load_detection
from netops_agent.intake.config import ENV_VAR, shipped_path
from netops_agent.intake.detectors import ThresholdDetector


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "detection.yaml"
    p.write_text(text)
    return p


def test_shipped_rules_load_with_unique_names() -> None:
    cfg = load_detection(use_env=False)
    names = [r.name for r in cfg.rules()]
    assert len(names) == len(set(names))
    assert {
        "interface-down",
        "bgp-session-down",
        "ospf-adjacency-down",
        "device-unreachable",
        "config-change",
        "memory-anomaly",
    } <= set(names)
    assert cfg.source == str(shipped_path())


def test_user_file_replaces_rules_by_name_disables_and_adds(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        """
settings: {for_s: 60}
thresholds:
  - {name: cpu-high, metric: cpu-utilization, op: ge, value: 70, severity: critical}
  - {name: interface-admin-down, metric: admin-status, op: eq, value: 2, enabled: false}
  - {name: discards-in, metric: in-discards, rate: true, op: gt, value: 5}
""",
    )
    cfg = load_detection(p)
    cpu = cfg.rule("cpu-high")
    assert cpu is not None and cpu.value == 70 and cpu.severity == "critical"  # type: ignore[attr-defined]
    assert cfg.rule("interface-admin-down").enabled is False  # type: ignore[union-attr]
    assert cfg.rule("discards-in") is not None
    assert cfg.rule("interface-down") is not None  # untouched shipped rules stay
    assert cfg.settings.for_s == 60 and cfg.settings.hold_s == 300
    assert str(p) in cfg.source


def test_environment_variable_points_at_the_user_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = write(tmp_path, "settings: {hold_s: 42}\n")
    monkeypatch.setenv(ENV_VAR, str(p))
    assert load_detection().settings.hold_s == 42
    assert load_detection(use_env=False).settings.hold_s == 300


@pytest.mark.parametrize(
    ("text", "where", "problem"),
    [
        (
            "thresholds:\n  - {name: cpu-hot, metric: cpu-util, op: gt, value: 1}\n",
            "thresholds rule cpu-hot",
            "unknown metric 'cpu-util'",
        ),
        (
            "thresholds:\n  - {name: errs, metric: in-errors, rate: true, op: lt, value: 1}\n",
            "thresholds rule errs",
            "op gt or ge",
        ),
        (
            "syslog:\n  - {name: x, tag: BGP-5-ADJCHANGE, pattern: 'neighbor (\\S+', kind: bgp}\n",
            "syslog rule x",
            "not a valid regular expression",
        ),
        (
            "syslog:\n  - {name: y, tag: BGP-5-ADJCHANGE, pattern: 'neighbor \\S+', kind: bgp}\n",
            "syslog rule y",
            "no (?P<entity>...) group",
        ),
        (
            "thresholds:\n  - {name: a, metric: cpu-utilization, op: gt, value: 1, colour: red}\n",
            "thresholds rule a",
            "unknown key 'colour'",
        ),
        ("correlation: {context_checks: [no-such-check]}\n", "correlation.context_checks", "unknown check"),
        ("rules: []\n", "", "unknown key(s) ['rules']"),
        ("thresholds: [\n", "", "not valid YAML"),
    ],
)
def test_bad_files_name_the_file_and_the_rule(tmp_path: Path, text: str, where: str, problem: str) -> None:
    p = write(tmp_path, text)
    with pytest.raises(InputFileError) as err:
        load_detection(p)
    msg = str(err.value)
    assert str(p) in msg and problem in msg and where in msg


def test_duplicate_rule_names_in_one_file_are_rejected(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        """
thresholds:
  - {name: twice, metric: cpu-utilization, op: gt, value: 1}
  - {name: twice, metric: cpu-utilization, op: gt, value: 2}
""",
    )
    with pytest.raises(InputFileError, match="duplicate rule name"):
        load_detection(p)


def test_missing_user_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="file not found"):
        load_detection(tmp_path / "nope.yaml")


def test_detector_registry_fails_loudly() -> None:
    assert DETECTORS.names() == ["anomaly", "probe", "syslog", "threshold"]
    with pytest.raises(RegistryError, match="unknown detector 'nope'.*threshold"):
        DETECTORS.create("nope", load_detection(use_env=False))
    reg = DetectorRegistry()
    reg.register("threshold", ThresholdDetector)
    with pytest.raises(RegistryError, match="already registered"):
        reg.register("threshold", ThresholdDetector)


def test_a_file_is_parsed_once_until_it_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from netops_agent.intake import config as config_module

    parsed: list[Path] = []
    real = config_module.read_yaml
    monkeypatch.setattr(config_module, "read_yaml", lambda p, **kw: parsed.append(p) or real(p, **kw))
    p = write(tmp_path, "settings: {hold_s: 42}\n")
    first = load_detection(p, use_env=False)
    first.anomalies[0].metrics.append("cpu-utilization")  # a caller changing its copy
    first.settings.hold_s = 1.0
    second = load_detection(p, use_env=False)
    assert parsed.count(p) == 1  # the second load used the parsed document
    assert second.settings.hold_s == 42 and second.anomalies[0].metrics == ["memory-utilization"]
    assert second is not first and second.anomalies[0] is not first.anomalies[0]
    p.write_text("settings: {hold_s: 43}\n")
    os.utime(p, ns=(1, 1))  # a new stamp even on a coarse clock
    assert load_detection(p, use_env=False).settings.hold_s == 43
    assert parsed.count(p) == 2
