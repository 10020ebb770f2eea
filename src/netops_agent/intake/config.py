"""Detection rules: the shipped `data/detection.yaml`, optionally overridden by a user file.

The user file has the same shape. Its `settings`, `probes` and `correlation` keys
replace the shipped values key by key; a rule with the name of a shipped rule
replaces it (`enabled: false` switches it off) and new names add rules. Every
problem is an `InputFileError` naming the file and the rule.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from netops_agent.errors import InputFileError
from netops_agent.inputs import read_yaml, validate
from netops_agent.settings import resolve_path

ENV_VAR = "NETOPS_DETECTION"
SEVERITIES = ("info", "warning", "minor", "major", "critical")
Severity = Literal["info", "warning", "minor", "major", "critical"]
Kind = Literal["interface", "bgp", "ospf", "device", "prefix", "config"]
Op = Literal["gt", "ge", "lt", "le", "eq", "ne"]

INTERFACE_METRICS = {
    "in-octets",
    "out-octets",
    "in-errors",
    "in-fcs-errors",
    "in-discards",
    "out-discards",
    "late-collisions",
    "oper-status",
    "admin-status",
    "in-utilization",
    "out-utilization",
}
DEVICE_METRICS = {"cpu-utilization", "memory-utilization"}
BGP_METRICS = {"bgp-session-established"}
METRICS = INTERFACE_METRICS | DEVICE_METRICS | BGP_METRICS
SQL_OPS = {"gt": ">", "ge": ">=", "lt": "<", "le": "<=", "eq": "=", "ne": "<>"}


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity)


def metric_kind(metric: str) -> Kind:
    if metric in DEVICE_METRICS:
        return "device"
    if metric in BGP_METRICS:
        return "bgp"
    return "interface"


class _Strict(BaseModel):
    # defer_build: each model builds its validator on first use, not at import
    model_config = ConfigDict(extra="forbid", defer_build=True)


class Rule(_Strict):
    """What every rule has: a unique name (the alert's check), a severity, wording."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    enabled: bool = True
    severity: Severity = "minor"
    for_s: float | None = Field(None, ge=0)
    hold_s: float | None = Field(None, ge=0)
    title: str = ""
    title_both: str = ""
    symptom: str = ""


class ThresholdRule(Rule):
    """`metric op value` (or its per-second rate for counters) held for `for_s`."""

    metric: str
    op: Op
    value: float
    rate: bool = False

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, v: str) -> str:
        if v not in METRICS:
            raise ValueError(f"unknown metric {v!r}; known: {', '.join(sorted(METRICS))}")
        return v

    @model_validator(mode="after")
    def _rate_rising(self) -> ThresholdRule:
        if self.rate and self.op not in ("gt", "ge"):
            raise ValueError("a rate rule alerts on counters growing fast: use op gt or ge")
        return self


class AnomalyRule(Rule):
    """Robust z-score of recent samples against each series' own baseline."""

    metrics: list[str] = Field(min_length=1)
    z: float = Field(6.0, gt=0)
    direction: Literal["up", "down", "both"] = "up"
    min_scale: float = Field(1.0, gt=0, description="floor of the robust scale, metric units")
    rel_scale: float = Field(0.05, ge=0, description="floor of the scale relative to the median")
    baseline_s: float = Field(3600, gt=0)
    recent_s: float = Field(120, gt=0)
    min_baseline: int = Field(5, ge=3)
    max_baseline_samples: int = Field(60, ge=5, description="baseline thinned to this many samples")

    @field_validator("metrics")
    @classmethod
    def _known_metrics(cls, v: list[str]) -> list[str]:
        unknown = [m for m in v if m not in METRICS]
        if unknown:
            raise ValueError(f"unknown metric(s) {unknown}; known: {', '.join(sorted(METRICS))}")
        return v


class SyslogRule(Rule):
    """A syslog tag plus a regex; `(?P<entity>...)` names the entity unless `entity` is fixed."""

    tag: str = Field(pattern=r"^[A-Z0-9_]+-[0-7]-[A-Z0-9_]+$")
    pattern: str
    clear: str | None = None
    clear_tag: str | None = None
    kind: Kind
    entity: str | None = None

    @field_validator("pattern", "clear")
    @classmethod
    def _regex(cls, v: str | None) -> str | None:
        if v is None:
            return v
        try:
            re.compile(v)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression ({exc}): {v!r}") from None
        return v

    def entity_group(self, pattern: str) -> int:
        """Index of the `entity` capture group (0: the rule has a fixed entity)."""
        return re.compile(pattern).groupindex.get("entity", 0)


class ProbeRule(Rule):
    """How a failed reachability probe is worded and ranked (check = rule name).

    `route` narrows a prefix rule to failures where the vantage's routing table has
    (present) or lacks (absent) the destination.
    """

    target: Literal["device", "prefix"]
    route: Literal["present", "absent", "any"] = "any"


class Settings(_Strict):
    sample_s: float = Field(10, gt=0)
    lookback_s: float = Field(3600, gt=0)
    for_s: float = Field(30, ge=0)
    hold_s: float = Field(300, ge=0)


class Probes(_Strict):
    enabled: bool = True
    devices: bool = True
    liveness: Literal["all", "suspects"] = Field(
        "suspects",
        description="ping every loopback, or only devices with a port down on or "
        "facing them in the latest telemetry sample",
    )
    prefixes: bool = True
    count: int = Field(3, ge=1, le=20)
    confirm: bool = True
    host_offset: int = Field(10, ge=1, le=250)


class Healthy(_Strict):
    """What "healthy again" means when the agent re-observes an incident it could not
    diagnose: `no fault found` only if every fresh read is within these limits (stricter
    than the alert thresholds, so a symptom that merely dipped below one is not cleared)."""

    max_utilisation_pct: float = Field(90, gt=0, le=100)
    max_cpu_pct: float = Field(70, gt=0, le=100)
    max_memory_pct: float = Field(80, gt=0, le=100)
    min_ping_success_pct: float = Field(80, ge=0, le=100)
    counter_interval_s: float = Field(10, gt=0)  # between the two reads of error counters
    ping_count: int = Field(5, ge=1, le=20)


IncidentSeverity = Literal["low", "medium", "high", "critical"]


class Impact(_Strict):
    """An incident's severity beyond its worst alert: what it hits (inventory) and how wide.

    Each rule is a floor; the incident takes the highest that applies.
    """

    criticality: dict[Literal["low", "normal", "high", "critical"], IncidentSeverity] = Field(
        default_factory=lambda: {"high": "high", "critical": "critical"}
    )  # the service tier of a device (or its site) the incident's alerts come from
    roles: dict[str, IncidentSeverity] = Field(default_factory=dict)  # e.g. {spine: high}
    devices: int = Field(8, ge=0)  # alerts on this many devices or more: at least `wide` (0: off)
    sites: int = Field(2, ge=0)  # alerts in this many sites or more: at least `wide` (0: off)
    wide: IncidentSeverity = "high"
    prefix_unreachable: IncidentSeverity | None = None  # a monitored prefix fails its probe


class Correlation(_Strict):
    window_s: float = Field(900, gt=0)
    seed_severity: Severity = "minor"
    device_down_checks: list[str] = Field(default_factory=list)
    port_down_checks: list[str] = Field(default_factory=list)
    context_checks: list[str] = Field(default_factory=list)
    context_window_s: float = Field(600, ge=0)
    cause_weights: dict[str, float] = Field(default_factory=dict)
    severity_map: dict[Severity, Literal["low", "medium", "high", "critical"]] = Field(
        default_factory=lambda: {
            "critical": "high",
            "major": "medium",
            "minor": "medium",
            "warning": "low",
            "info": "low",
        }
    )
    max_symptoms: int = Field(6, ge=1)
    impact: Impact = Field(default_factory=Impact)


class AlertmanagerMapping(_Strict):
    """Which Alertmanager labels name our inventory's device, interface and BGP peer."""

    device_labels: list[str] = Field(default_factory=lambda: ["device", "instance", "hostname"])
    interface_labels: list[str] = Field(default_factory=lambda: ["ifName", "interface"])
    peer_labels: list[str] = Field(default_factory=lambda: ["peer", "neighbor"])
    severity_label: str = "severity"
    severity_map: dict[str, Severity] = Field(
        default_factory=lambda: {
            "critical": "critical",
            "page": "critical",
            "major": "major",
            "error": "major",
            "warning": "minor",
            "minor": "minor",
            "info": "info",
            "none": "info",
        }
    )
    default_severity: Severity = "minor"


class Receivers(_Strict):
    """External signals (`netops-agent serve` receivers)."""

    alertmanager: AlertmanagerMapping = Field(default_factory=AlertmanagerMapping)
    scope: str = Field("live", pattern=r"^[A-Za-z0-9_.-]+$", description="alert scope of received signals")
    cycle_s: float = Field(5.0, gt=0, description="how often received signals are correlated")
    snmp_community: str = "public"
    hosts: dict[str, str] = Field(
        default_factory=dict,
        description="sender hostname or address -> inventory device (senders named otherwise)",
    )


class DetectionConfig(_Strict):
    version: int = 1
    settings: Settings = Field(default_factory=Settings)
    thresholds: list[ThresholdRule] = Field(default_factory=list)
    anomalies: list[AnomalyRule] = Field(default_factory=list)
    syslog: list[SyslogRule] = Field(default_factory=list)
    probe_checks: list[ProbeRule] = Field(default_factory=list)
    probes: Probes = Field(default_factory=Probes)
    correlation: Correlation = Field(default_factory=Correlation)
    healthy: Healthy = Field(default_factory=Healthy)
    receivers: Receivers = Field(default_factory=Receivers)
    source: str = Field("", exclude=True)

    def rules(self) -> list[Rule]:
        return [*self.thresholds, *self.anomalies, *self.syslog, *self.probe_checks]

    def rule(self, name: str) -> Rule | None:
        return next((r for r in self.rules() if r.name == name), None)

    def for_s(self, rule: Rule) -> float:
        return self.settings.for_s if rule.for_s is None else rule.for_s

    def hold_s(self, rule: Rule) -> float:
        return self.settings.hold_s if rule.hold_s is None else rule.hold_s

    def pattern_fields(self, rule: Rule, raw: str) -> dict[str, str]:
        """Named groups of a syslog rule's pattern in one raw message (for wording)."""
        if not isinstance(rule, SyslogRule) or not raw:
            return {}
        m = re.search(rule.pattern, raw)
        return {k: v for k, v in m.groupdict().items() if v is not None} if m else {}


RULE_LISTS = ("thresholds", "anomalies", "syslog", "probe_checks")
SECTIONS = ("settings", "probes", "correlation", "healthy", "receivers")


def shipped_path() -> Path:
    return Path(__file__).resolve().parent.parent / "data" / "detection.yaml"


def load_detection(path: Path | str | None = None, *, use_env: bool = True) -> DetectionConfig:
    """The shipped rules, overridden by `path` (or $NETOPS_DETECTION when `use_env`)."""
    base_path = shipped_path()
    raw = _read(base_path)
    override = Path(path) if path is not None else None
    if override is None and use_env:
        env = resolve_path(None, ENV_VAR, base_path)
        override = env if env != base_path else None
    sources = [str(base_path)]
    if override is not None:
        raw = _merge(raw, _read(override), override)
        sources.append(str(override))
    cfg = _validate(raw, override or base_path)
    cfg.source = " + ".join(sources)
    return cfg


# Parsed detection files by path, with the (mtime, size) they were read at: a case reads
# the rules 3-4 times (intake, agent, recheck), each parse ~10 ms of PyYAML.
_PARSED: dict[str, tuple[tuple[int, int], Any]] = {}


def _parse(path: Path) -> Any:
    """The file's YAML document, parsed again only when the file changed. Shared between
    calls: `_merge` and `_validate` build new objects and never change it."""
    try:
        st = path.stat()
    except OSError:
        st = None
    stamp = (st.st_mtime_ns, st.st_size) if st is not None else None
    hit = _PARSED.get(str(path))
    if stamp is not None and hit is not None and hit[0] == stamp:
        return hit[1]
    data = read_yaml(path, missing_fix=f"pass an existing detection file or unset ${ENV_VAR}")
    if stamp is not None:
        _PARSED[str(path)] = (stamp, data)
    return data


def _read(path: Path) -> dict[str, Any]:
    data = _parse(path)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputFileError(
            str(path),
            "a detection file is a mapping",
            fix=f"use the keys: version, {', '.join(SECTIONS + RULE_LISTS)}",
        )
    unknown = sorted(set(data) - {"version", *SECTIONS, *RULE_LISTS})
    if unknown:
        raise InputFileError(
            str(path),
            f"unknown key(s) {unknown}",
            fix=f"use the keys: version, {', '.join(SECTIONS + RULE_LISTS)}",
        )
    return data


def _merge(base: dict[str, Any], user: dict[str, Any], path: Path) -> dict[str, Any]:
    """User sections override key by key; user rules replace shipped rules of the same name."""
    out = dict(base)
    for section in SECTIONS:
        if section in user:
            if not isinstance(user[section], dict):
                raise InputFileError(str(path), f"'{section}' must be a mapping", where=section)
            out[section] = {**(base.get(section) or {}), **user[section]}
    for key in RULE_LISTS:
        if key not in user:
            continue
        items = user[key] or []
        if not isinstance(items, list):
            raise InputFileError(str(path), f"'{key}' must be a list of rules", where=key)
        merged = {r.get("name"): r for r in (base.get(key) or []) if isinstance(r, dict)}
        seen: set[str] = set()
        for n, item in enumerate(items):
            if not isinstance(item, dict) or "name" not in item:
                raise InputFileError(str(path), "every rule needs a 'name'", where=f"{key}[{n}]")
            if item["name"] in seen:
                raise InputFileError(
                    str(path),
                    f"duplicate rule name {item['name']!r}",
                    where=key,
                    fix="rule names are check names: keep them unique",
                )
            seen.add(item["name"])
            merged[item["name"]] = item
        out[key] = list(merged.values())
    return out


def _validate(raw: dict[str, Any], path: Path) -> DetectionConfig:
    for key in RULE_LISTS:
        names = [r.get("name") for r in raw.get(key) or [] if isinstance(r, dict)]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise InputFileError(
                str(path),
                f"duplicate rule name(s) {dupes}",
                where=key,
                fix="rule names are alert check names and must be unique",
            )
    cfg = validate(
        DetectionConfig, raw, path, where=lambda loc: _where(raw, loc),
        fix="see the shipped src/netops_agent/data/detection.yaml for the format",
    )  # fmt: skip
    names = [r.name for r in cfg.rules()]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InputFileError(
            str(path),
            f"rule name(s) {dupes} used in more than one list",
            fix="rule names are alert check names and must be unique",
        )
    for rule in cfg.syslog:
        if rule.entity is None and rule.entity_group(rule.pattern) == 0:
            raise InputFileError(
                str(path),
                "pattern has no (?P<entity>...) group and no fixed 'entity'",
                where=f"syslog rule {rule.name}",
            )
        if rule.clear and rule.entity is None and rule.entity_group(rule.clear) == 0:
            raise InputFileError(
                str(path), "clear pattern has no (?P<entity>...) group", where=f"syslog rule {rule.name}"
            )
    known = set(names)
    for field in ("device_down_checks", "port_down_checks", "context_checks"):
        missing = [c for c in getattr(cfg.correlation, field) if c not in known]
        if missing:
            raise InputFileError(
                str(path),
                f"unknown check(s) {missing}",
                where=f"correlation.{field}",
                fix=f"known checks: {', '.join(names)}",
            )
    return cfg


def _where(raw: dict[str, Any], loc: tuple[int | str, ...]) -> str:
    """A validation error's place: a rule by its name, else the dotted path."""
    where = ".".join(str(x) for x in loc)
    if len(loc) >= 2 and loc[0] in RULE_LISTS and isinstance(loc[1], int):
        items = raw.get(str(loc[0])) or []
        item = items[loc[1]] if loc[1] < len(items) else {}
        name = item.get("name", f"#{loc[1] + 1}") if isinstance(item, dict) else f"#{loc[1] + 1}"
        rest = ".".join(str(x) for x in loc[2:])
        where = f"{loc[0]} rule {name}" + (f", field {rest}" if rest else "")
    return where
