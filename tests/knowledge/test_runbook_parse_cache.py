"""`load_runbooks` validates a file once and keeps its runbooks per text (knowledge/schema.py):
the same runbooks and the same one-line errors as reading and validating every time, each
runbook on its own first; a changed file is read again."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from netops_agent.errors import InputFileError
from netops_agent.inputs import read_yaml, validate
from netops_agent.knowledge import load_runbooks
from netops_agent.knowledge.schema import Runbook, RunbookFile, default_path


def reference(path: Path) -> list[Runbook]:
    """What load_runbooks did before the cache: every runbook validated on its own (its
    error names it), then the file."""
    raw = read_yaml(path, missing_fix="pass an existing --runbooks file")
    if not isinstance(raw, dict) or "runbooks" not in raw:
        raise InputFileError(
            str(path), "expected a mapping with a 'runbooks' list", fix="start the file with 'runbooks:'"
        )
    for n, item in enumerate(raw.get("runbooks") or []):
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
    return book.runbooks


def _shipped() -> dict[str, Any]:
    return yaml.safe_load(default_path().read_text())


def _outcome(load: Callable[[Path], list[Runbook]], path: Path) -> Any:
    try:
        return [rb.model_dump() for rb in load(path)]
    except InputFileError as exc:
        return ("error", str(exc))


def _set(data: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    data[key] = value
    return data


BAD: list[Callable[[dict[str, Any]], Any]] = [
    lambda d: d["runbooks"][0]["evidence"][0].update(tool="show_magic"),
    lambda d: d["runbooks"][1].update(fault_types=["cosmic_rays"]),
    lambda d: d["runbooks"][2].pop("validation"),
    lambda d: d["runbooks"][2].update(colour="red"),
    lambda d: d["runbooks"][5].update(colour="red") or d["runbooks"][3].pop("title"),  # two: the first wins
    lambda d: d["runbooks"].append(dict(d["runbooks"][0])),
    lambda d: _set(d, "version", "one"),  # the file's own field, after valid runbooks
    lambda d: _set(d, "colour", "red") and d["runbooks"][4].pop("symptoms"),  # a runbook's before the file's
    lambda d: _set(d, "runbooks", "not a list"),
    lambda d: _set(d, "runbooks", [["a list"], {"id": "X"}]),
    lambda d: _set(d, "runbooks", None),
    lambda d: d.pop("runbooks"),
]


@pytest.mark.parametrize("mutate", [None, *BAD])
def test_the_same_runbooks_and_errors_as_validating_each_runbook_first(
    tmp_path: Path, mutate: Callable[[dict[str, Any]], Any] | None
) -> None:
    data = _shipped()
    if mutate is not None:
        mutate(data)
    path = tmp_path / "runbooks.yaml"
    path.write_text(yaml.safe_dump(data))
    expected = _outcome(reference, path)
    assert (mutate is None) == isinstance(expected, list)  # the bad files are bad
    assert _outcome(load_runbooks, path) == expected
    assert _outcome(load_runbooks, path) == expected  # again, from the cache (or the error again)


def test_a_text_is_parsed_once_and_a_changed_file_again(tmp_path: Path) -> None:
    data = _shipped()
    path = tmp_path / "runbooks.yaml"
    path.write_text(yaml.safe_dump(data))
    first, second = load_runbooks(path), load_runbooks(path)
    assert first is not second and first == second  # a new list each time ...
    assert all(a is b for a, b in zip(first, second, strict=True))  # ... of the runbooks parsed once
    data["runbooks"][0]["title"] = data["runbooks"][0]["title"].upper()  # same length, new text
    path.write_text(yaml.safe_dump(data))
    changed = load_runbooks(path)
    assert changed[0].title == first[0].title.upper() and changed[0] is not first[0]
    assert [rb.model_dump() for rb in changed] == [rb.model_dump() for rb in reference(path)]


def test_a_bad_file_is_refused_every_time_and_read_again_once_fixed(tmp_path: Path) -> None:
    path = tmp_path / "runbooks.yaml"
    path.write_text("runbooks: [\n")
    for _ in range(2):
        with pytest.raises(InputFileError, match="not valid YAML"):
            load_runbooks(path)
    path.write_text(yaml.safe_dump(_shipped()))
    assert [rb.id for rb in load_runbooks(path)] == [rb.id for rb in reference(path)]
    path.unlink()
    with pytest.raises(InputFileError, match="file not found"):
        load_runbooks(path)
