"""Where ticket transitions are sent: a YAML list of webhook targets.

```yaml
targets:
  - name: noc-chat                 # unique; shown in `netops-agent notifications`
    kind: slack                    # generic | slack | servicenow | jira
    url: https://chat.example.net/hooks/${CHAT_HOOK}   # ${VAR}: from the environment
    headers: {Authorization: "Bearer ${CHAT_TOKEN}"}
    states: [escalated, awaiting_approval, resolved]   # default: every transition
    timeout_s: 5
    max_attempts: 6                # then the notification is dead (kept, retryable)
    backoff_s: 2                   # 2, 4, 8, ... seconds between attempts
```

Secrets stay in the environment: `${VAR}` is expanded only when a request is sent,
never stored in the database or written to a log; what is logged is the target's name
and host.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from netops_agent.errors import ConfigError, InputFileError

ENV_VAR = "NETOPS_NOTIFY"
Kind = Literal["generic", "slack", "servicenow", "jira"]
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class Target(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=64)
    kind: Kind = "generic"
    url: str
    headers: dict[str, str] = Field(default_factory=dict)
    states: list[str] = Field(default_factory=list, description="ticket states to send; empty: all")
    timeout_s: float = Field(5.0, gt=0, le=120)
    max_attempts: int = Field(6, ge=1, le=100)
    backoff_s: float = Field(2.0, ge=0, le=3600)

    @field_validator("url")
    @classmethod
    def _http(cls, v: str) -> str:
        scheme = urlsplit(_VAR.sub("x", v)).scheme
        if scheme not in ("http", "https"):
            raise ValueError("url must start with http:// or https://")
        return v

    def wants(self, state: str) -> bool:
        return not self.states or state in self.states

    def host(self) -> str:
        """Where it goes, safe to log (no path, query or credentials)."""
        return urlsplit(_VAR.sub("x", self.url)).hostname or "?"

    def resolved_url(self) -> str:
        return _expand(self.url, f"target {self.name} url")

    def resolved_headers(self) -> dict[str, str]:
        return {k: _expand(v, f"target {self.name} header {k}") for k, v in self.headers.items()}


class NotifyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    targets: list[Target] = Field(default_factory=list)

    @field_validator("targets")
    @classmethod
    def _unique(cls, v: list[Target]) -> list[Target]:
        names = [t.name for t in v]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"target names must be unique: {', '.join(dup)}")
        return v

    def target(self, name: str) -> Target | None:
        return next((t for t in self.targets if t.name == name), None)


def _expand(text: str, where: str) -> str:
    def var(m: re.Match[str]) -> str:
        value = os.environ.get(m.group(1))
        if value is None:
            raise ConfigError(f"{where}: environment variable {m.group(1)} is not set; export it first")
        return value

    return _VAR.sub(var, text)


def load_notify(path: Path | str | None = None) -> NotifyConfig:
    """Targets from `path`, else $NETOPS_NOTIFY, else none (notifications off)."""
    chosen = path if path is not None else os.environ.get(ENV_VAR)
    if not chosen:
        return NotifyConfig()
    p = Path(chosen)
    if not p.is_file():
        raise InputFileError(str(p), "not a readable file", fix="pass a YAML file with a `targets:` list")
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InputFileError(str(p), f"not valid YAML: {exc}".splitlines()[0]) from None
    if not isinstance(raw, dict):
        raise InputFileError(str(p), "expected a mapping with a `targets:` list")
    try:
        return NotifyConfig.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"])
        raise InputFileError(
            str(p), err["msg"], where=where, fix="see docs/receivers.md for the format"
        ) from None
