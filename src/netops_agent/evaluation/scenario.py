"""Scenario suites (format v1, see docs): load, validate, and resolve built-in names.

Unknown keys, unknown fault types, impossible targets and duplicate case ids are
rejected before anything runs, with the file, the case id and the field named.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from netops_agent.catalog import CATALOG
from netops_agent.errors import InputFileError
from netops_agent.inputs import read_yaml, validation_error
from netops_agent.lab.sim.topology import PROFILES
from netops_agent.models import FaultSpec

SUITES_DIR = Path(__file__).resolve().parent.parent / "data" / "suites"
DOC_HINT = "see docs/scenarios.md for the suite format and target shapes"


class _Strict(BaseModel):
    # defer_build: each model builds its validator on first use, not at import
    model_config = ConfigDict(extra="forbid", defer_build=True)


class Topology(_Strict):
    profile: str = "small"
    seed: int = 42

    @field_validator("profile")
    @classmethod
    def _profile(cls, v: str) -> str:
        if v not in PROFILES:
            raise ValueError(f"unknown profile {v!r}; choose one of {', '.join(PROFILES)}")
        return v


class Noise(_Strict):
    transient_spikes: int = Field(0, ge=0, le=50)
    counter_jitter: float = Field(0.0, ge=0.0, le=0.5)


class Expect(_Strict):
    outcome: Literal["resolved", "escalated", "no_action"] | None = None


Tier = Literal["low", "normal", "high", "critical"]


class Fault(FaultSpec):
    @model_validator(mode="before")
    @classmethod
    def _no_severity(cls, data: Any) -> Any:
        if isinstance(data, dict) and "severity" in data:
            raise ValueError(
                "a fault has no severity: monitoring derives it from impact; give the device "
                "or site a `criticality:` (case or suite level) instead"
            )
        return data

    @field_validator("type")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in CATALOG:
            raise ValueError(f"unknown fault type {v!r}; known: {', '.join(CATALOG)}")
        return v


class Case(_Strict):
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    seed: int = 0
    faults: list[Fault] = Field(default_factory=list)
    noise: Noise = Field(default_factory=Noise)
    expect: Expect = Field(default_factory=Expect)
    topology: Topology | None = None  # per-case override (an extension of v1)
    # Service tier per device or site name (inventory data, like a CMDB); case over suite.
    criticality: dict[str, Tier] = Field(default_factory=dict)

    def expected_outcome(self) -> str:
        """The outcome a correct agent ends with: the case's, else the catalog's."""
        if self.expect.outcome:
            return self.expect.outcome
        if not self.faults:
            return "no_action"
        outcomes = {CATALOG[f.type].outcome for f in self.faults}
        return "escalated" if "escalated" in outcomes else "resolved"


class Suite(_Strict):
    name: str
    version: int = 1
    description: str = ""
    topology: Topology = Field(default_factory=Topology)
    backend: Literal["sim", "frr"] = "sim"
    criticality: dict[str, Tier] = Field(default_factory=dict)
    cases: list[Case] = Field(min_length=1)
    source: str = Field("", exclude=True)
    digest: str = Field("", exclude=True)

    def topology_for(self, case: Case) -> Topology:
        return case.topology or self.topology

    def criticality_for(self, case: Case) -> dict[str, str]:
        return {**self.criticality, **case.criticality}


def builtin_suites() -> list[str]:
    return sorted(p.stem for p in SUITES_DIR.glob("*.yaml"))


def resolve(name_or_path: str) -> Path:
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") or p.exists():
        if not p.exists():
            raise InputFileError(
                str(p),
                "file not found",
                fix=f"pass a suite file or a built-in name: {', '.join(builtin_suites())}",
            )
        return p
    builtin = SUITES_DIR / f"{name_or_path}.yaml"
    if not builtin.exists():
        raise InputFileError(
            name_or_path,
            "no such built-in suite",
            fix=f"built-in suites: {', '.join(builtin_suites())}; or pass a YAML file",
        )
    return builtin


def load_suite(name_or_path: str) -> Suite:
    path = resolve(name_or_path)
    text = path.read_text()
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise InputFileError(str(path), "a suite is a mapping with 'name' and 'cases'")
    try:
        suite = Suite.model_validate(raw)
    except ValidationError as exc:
        raise _suite_error(path, raw, exc) from None
    seen: set[str] = set()
    for case in suite.cases:
        if case.id in seen:
            raise InputFileError(
                str(path),
                f"duplicate case id {case.id!r}",
                where=f"case {case.id}",
                fix="case ids must be unique within a suite",
            )
        seen.add(case.id)
    suite.source = str(path)
    suite.digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    _check_targets(suite, path)
    return suite


def _where(raw: dict[str, Any], loc: tuple[int | str, ...]) -> str:
    """A validation error's place: a case by its id, else the dotted path."""
    where = ".".join(str(x) for x in loc)
    if len(loc) >= 2 and loc[0] == "cases" and isinstance(loc[1], int):
        cases = raw.get("cases") or []
        n = loc[1]
        item = cases[n] if n < len(cases) and isinstance(cases[n], dict) else {}
        cid = item.get("id", f"#{n + 1}")
        where = f"case {cid}, field {'.'.join(str(x) for x in loc[2:])}"
    return where


def _suite_error(path: Path, raw: dict[str, Any], exc: ValidationError) -> InputFileError:
    """The first validation problem, in words that say how to write the key right."""
    err = exc.errors()[0]
    loc = tuple(err["loc"])
    where = _where(raw, loc)
    if "target" in loc and err["type"] != "extra_forbidden":
        where = where.split(".target")[0] + ".target" if ".target" in where else where
        msg = (
            f"a target is 'auto' or a mapping such as {{device: X, interface: Y}} or "
            f"{{device: X, peer: 10.0.0.1}} (got {err.get('input')!r})"
        )
        return InputFileError(str(path), msg, where=where, fix=DOC_HINT)
    if len(loc) >= 3 and loc[2] == "expect" and err["type"] == "model_type":
        msg = (
            f"'expect' is a mapping with an 'outcome' key, e.g. expect: {{outcome: escalated}} "
            f"(got {err.get('input')!r})"
        )
        return InputFileError(str(path), msg, where=where, fix=DOC_HINT)
    return validation_error(path, exc, where=lambda loc: _where(raw, loc), fix=DOC_HINT)


def _check_targets(suite: Suite, path: Path) -> None:
    """Reject impossible explicit targets before anything runs."""
    from netops_agent.errors import LabError
    from netops_agent.lab.sim.faults import SimFaults
    from netops_agent.lab.sim.lab import SimLab

    if suite.backend != "sim":
        return
    labs: dict[tuple[str, int], SimLab] = {}
    for case in suite.cases:
        explicit = [f for f in case.faults if f.target != "auto"]
        tiers = suite.criticality_for(case)
        if not explicit and not tiers:
            continue
        topo = suite.topology_for(case)
        lab = labs.get((topo.profile, topo.seed)) or SimLab.build(topo.profile, topo.seed)
        labs[(topo.profile, topo.seed)] = lab
        names = {d.name for d in lab.inv.devices} | {s.name for s in lab.inv.sites}
        unknown = sorted(set(tiers) - names)
        if unknown:
            raise InputFileError(
                str(path),
                f"criticality for unknown device or site {', '.join(unknown)}",
                where=f"case {case.id}, criticality",
                fix=f"name devices or sites of profile {topo.profile}, e.g. {sorted(names)[0]}",
            )
        fx = SimFaults(lab)
        seen: dict[tuple[str, str], int] = {}
        taken: Counter[tuple[str, str]] = Counter()
        for n, f in enumerate(case.faults):
            if f.target == "auto":
                continue
            raw = dict(f.target)
            use = (f.type, str(raw.get("device")))
            try:
                target = fx._check(CATALOG[f.type].target, f.type, raw, taken=taken[use])  # type: ignore[arg-type]
            except LabError as exc:
                raise InputFileError(
                    str(path), str(exc), where=f"case {case.id}, faults[{n}].target", fix=DOC_HINT
                ) from None
            taken[use] += 1
            if f.type == "route_missing":  # each one removes another of the device's static routes
                continue
            same = (f.type, repr(sorted(target.items())))
            if same in seen:
                raise InputFileError(
                    str(path),
                    f"the same fault twice: {f.type} on {_target_text(target)} is also faults[{seen[same]}]",
                    where=f"case {case.id}, faults[{n}]",
                    fix="remove one of them (a fault injected twice is one fault and cannot be scored twice)",
                )
            seen[same] = n


def _target_text(target: dict[str, Any]) -> str:
    return " ".join(str(target[k]) for k in ("device", "interface", "peer") if target.get(k))
