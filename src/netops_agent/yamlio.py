"""YAML reading with libyaml's C parser when PyYAML has it (about 10x faster than the pure
Python one: the runbooks, detection rules and suites are read on every run)."""

from __future__ import annotations

from typing import Any

import yaml

YAMLError = yaml.YAMLError
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str) -> Any:
    """`yaml.safe_load`: the same safe constructors, the C parser where available."""
    return yaml.load(text, Loader=_Loader)
