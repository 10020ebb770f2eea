"""Runbook schema: what `data/runbooks.yaml` may say, validated with Pydantic.

A runbook names the fault types it handles, the symptoms it is for (the text that
retrieval matches), diagnostics (tool calls), the evidence that confirms it
(checks over the parsed tool output), remediation steps (tool calls with risk),
validation checks (re-run on fresh output after acting) and, when nothing can be
done remotely, where to escalate. Values in braces such as "{interface}" are filled
from the incident's context; nothing else is interpolated.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from netops_agent.catalog import CATALOG
from netops_agent.errors import InputFileError
from netops_agent.inputs import parse_yaml, validate

ContextVar = Literal["device", "peer_device", "nbr_device"]
Op = Literal[
    "eq",
    "ne",
    "in",
    "gt",
    "lt",
    "ge",
    "le",
    "contains",
    "absent",
    "present",
    "increases",
    "steady",
    "unreachable",
    "reachable",
    "nonempty",
]


class Strict(BaseModel):
    # defer_build: each model builds its validator on first use, not at import
    model_config = ConfigDict(extra="forbid", defer_build=True)


class Step(Strict):
    """One tool call; `device` names a context variable, params may use {placeholders}."""

    tool: str
    device: str = "{device}"
    params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("tool")
    @classmethod
    def _known_tool(cls, v: str) -> str:
        from netops_agent.tools.registry import TOOLS

        if v not in TOOLS:
            raise ValueError(f"unknown tool {v!r}; known tools: {', '.join(TOOLS.names())}")
        return v


class Check(Step):
    """Run a tool and test one field.

    For list outputs, `where` selects rows (all keys must match); `field` is then
    read from the first selected row. `absent` / `present` test whether any row matches.
    `increases` reads twice, `interval_s` apart, and needs the second value larger.
    `reads: N` makes a comparison sustained: it must hold on N reads `interval_s` apart.
    `support: true` marks supporting evidence: it is gathered and recorded, counts for
    the runbook when it holds, and never blocks confirmation when it does not.
    """

    tool: str = "show_interfaces"
    where: dict[str, Any] = Field(default_factory=dict)
    field: str | None = None
    op: Op = "eq"
    value: Any = None
    interval_s: float = 10.0
    reads: int = Field(1, ge=1, le=6)
    support: bool = False
    capture: dict[str, str] = Field(default_factory=dict, description="context var -> field")
    note: str = ""

    @model_validator(mode="after")
    def _field_needed(self) -> Check:
        needs_field = self.op not in ("absent", "present", "unreachable", "reachable", "nonempty")
        if needs_field and not self.field:
            raise ValueError(f"op {self.op!r} needs a 'field'")
        return self


class Escalation(Strict):
    group: str
    reason: str


class Runbook(Strict):
    id: str = Field(pattern=r"^[A-Z0-9][A-Z0-9-]{2,40}$")
    title: str
    fault_types: list[str] = Field(min_length=1)
    symptoms: str = Field(min_length=10)
    priority: int = Field(50, ge=0, le=100, description="higher wins when several confirm")
    scope: Literal["interface", "link", "bgp_session", "device"] = "interface"
    diagnostics: list[Step] = Field(default_factory=list)
    evidence: list[Check] = Field(min_length=1)
    remediation: list[Step] = Field(default_factory=list)
    validation: list[Check] = Field(default_factory=list)
    escalate: Escalation | None = None
    assignment_group: str = "network-operations"

    @field_validator("fault_types")
    @classmethod
    def _known_faults(cls, v: list[str]) -> list[str]:
        unknown = [f for f in v if f not in CATALOG]
        if unknown:
            raise ValueError(f"unknown fault type(s) {unknown}; known: {', '.join(CATALOG)}")
        return v

    @model_validator(mode="after")
    def _fix_or_escalate(self) -> Runbook:
        if not self.remediation and self.escalate is None:
            raise ValueError("a runbook needs 'remediation' steps or an 'escalate' block")
        if self.remediation and not self.validation:
            raise ValueError("a runbook with remediation needs 'validation' checks")
        return self

    def text(self) -> str:
        """What retrieval indexes: title, symptoms and fault-type words."""
        return " ".join([self.title, self.symptoms, *(f.replace("_", " ") for f in self.fault_types)])


class RunbookFile(Strict):
    version: int = 1
    runbooks: list[Runbook]


def default_path() -> Path:
    return Path(__file__).resolve().parent.parent / "data" / "runbooks.yaml"


def load_runbooks(path: Path | None = None) -> list[Runbook]:
    """Load and validate a runbook file; errors name the file, runbook id and field.

    A file whose text was parsed before in this process gives the runbooks parsed then (a
    new list of the same objects): `run` checks the runbooks before it opens the database
    and then indexes them, and each reading cost a YAML parse and a validation."""
    path = path or default_path()
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise InputFileError(str(path), "file not found", fix=_MISSING_FIX) from None
    return list(_parse(str(path), text))


_MISSING_FIX = "pass an existing --runbooks file"


@lru_cache(maxsize=8)
def _parse(path_name: str, text: str) -> tuple[Runbook, ...]:
    """The runbooks of `text` (the contents of the file `path_name`), kept per (name, text):
    a changed file is parsed again. Errors are raised each time (not kept)."""
    path = Path(path_name)
    raw = parse_yaml(path, text)
    if not isinstance(raw, dict) or "runbooks" not in raw:
        raise InputFileError(
            str(path), "expected a mapping with a 'runbooks' list", fix="start the file with 'runbooks:'"
        )
    try:
        book = RunbookFile.model_validate(raw)
    except ValidationError:
        book = None
    if book is None:  # the first problem, as one line: a runbook's own first, then the file's
        items = raw.get("runbooks") or []
        for n, item in enumerate(items):
            rid = item.get("id", f"#{n + 1}") if isinstance(item, dict) else f"#{n + 1}"
            validate(
                Runbook, item, path,
                where=lambda loc, rid=rid: f"runbook {rid}, field {'.'.join(map(str, loc))}",
                fix="see docs/architecture.md (Runbooks) for the schema",
            )  # fmt: skip
        book = validate(RunbookFile, raw, path)
    seen: set[str] = set()
    for rb in book.runbooks:
        if rb.id in seen:
            raise InputFileError(str(path), f"duplicate runbook id {rb.id}", where=f"runbook {rb.id}")
        seen.add(rb.id)
    return tuple(book.runbooks)
