"""Reading YAML input files (runbooks, policy, detection rules, scenario suites).

One place turns a missing file, bad YAML or a pydantic validation error into an
`InputFileError` that names the file, the place in it and how to fix it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from netops_agent import yamlio
from netops_agent.errors import InputFileError

M = TypeVar("M", bound=BaseModel)
Loc = tuple[int | str, ...]


def read_yaml(path: Path, *, missing_fix: str = "") -> Any:
    """The parsed document; a missing file or invalid YAML is an `InputFileError`."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise InputFileError(str(path), "file not found", fix=missing_fix) from None
    return parse_yaml(path, text)


def parse_yaml(path: Path, text: str) -> Any:
    """The parsed document of `text` (read from `path`); invalid YAML is an `InputFileError`."""
    try:
        return yamlio.safe_load(text)  # libyaml's C loader where available
    except yamlio.YAMLError as exc:
        raise InputFileError(str(path), f"not valid YAML: {exc}") from exc


def validation_error(
    path: Path | str, exc: ValidationError, *, where: Callable[[Loc], str] | None = None, fix: str = ""
) -> InputFileError:
    """The first problem of a pydantic error as an `InputFileError` (unknown keys named)."""
    err = exc.errors()[0]
    loc: Loc = tuple(err["loc"])
    msg = f"unknown key {loc[-1]!r}" if err["type"] == "extra_forbidden" and loc else err["msg"]
    place = where(loc) if where else ".".join(str(x) for x in loc)
    return InputFileError(str(path), msg, where=place, fix=fix)


def validate(
    model: type[M], raw: Any, path: Path | str, *, where: Callable[[Loc], str] | None = None, fix: str = ""
) -> M:
    """`model.model_validate(raw)`, its errors as an `InputFileError` (see `validation_error`)."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise validation_error(path, exc, where=where, fix=fix) from None
