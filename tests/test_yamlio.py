"""yamlio.safe_load reads every shipped YAML file as yaml.safe_load does, and stays safe."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from netops_agent import yamlio

DATA = Path(yamlio.__file__).parent / "data"


def test_same_data_as_safe_load_for_every_shipped_file() -> None:
    files = sorted(DATA.rglob("*.yaml"))
    assert len(files) >= 5
    for f in files:
        text = f.read_text()
        assert yamlio.safe_load(text) == yaml.safe_load(text), f.name


def test_refuses_python_objects_and_reports_where() -> None:
    with pytest.raises(yamlio.YAMLError):
        yamlio.safe_load("x: !!python/object/apply:os.system ['true']")
    with pytest.raises(yamlio.YAMLError, match="line 2"):
        yamlio.safe_load("a: 1\nb: [1, 2\nc: 3\n")
