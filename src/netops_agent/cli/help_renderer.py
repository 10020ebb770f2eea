"""Typer's help renderer without the two Rich modules our help never draws with.

`typer.rich_utils` imports `rich.markdown` (markdown-it, pygments) and `rich.traceback`
(attrs, rich.pretty) at its top: about half of a `--help`'s imports. Its help uses
`Markdown` only when an app asks for `rich_markup_mode="markdown"` (ours use the default,
Rich markup) and `Traceback` only for pretty exceptions (ours are off). `load()` imports
`typer.rich_utils` with a stand-in for each of those two names: a class that imports the
real module on first use and hands back the real object (`Markdown(...)` is a real
`rich.markdown.Markdown`; `Traceback.from_exception` is the real class method). What the
help prints is unchanged (tests/cli/test_help_renderer.py compares every command's help
with and without it).

Only for the typer versions whose `rich_utils` was read and found to use the two names
only that way (`VERIFIED`); any other version imports `typer.rich_utils` as it is.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

# typer versions whose rich_utils uses `Markdown` only as `Markdown(text, style=...)` (and in
# annotations) and `Traceback` only as `Traceback.from_exception(...)`: no isinstance checks.
VERIFIED = frozenset({"0.29.2"})

# module -> the one name typer.rich_utils takes from it.
DEFERRED = {"rich.markdown": "Markdown", "rich.traceback": "Traceback"}


class _Deferred(type):
    """Metaclass of a stand-in: class attributes (`Traceback.from_exception`) are the real's."""

    def __getattr__(cls, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(cls._netops_real(), name)  # type: ignore[attr-defined]


def stand_in(module: str, name: str) -> type:
    """A class named like `module.name` that imports the real one when called or asked for
    an attribute, and returns what the real one returns."""

    def real() -> Any:
        return getattr(importlib.import_module(module), name)

    def __new__(cls: type, *args: Any, **kwargs: Any) -> Any:
        return real()(*args, **kwargs)  # not an instance of cls: __init__ is not called again

    return _Deferred(name, (), {"__new__": __new__, "_netops_real": staticmethod(real), "__module__": module})


def typer_version() -> str:
    import typer

    return str(getattr(typer, "__version__", ""))


def load() -> bool:
    """Import `typer.rich_utils` (if not yet imported) with the deferred stand-ins; False
    when it was imported as it is (already loaded, or an unverified typer version)."""
    if "typer.rich_utils" in sys.modules or typer_version() not in VERIFIED:
        return False
    placed: dict[str, types.ModuleType] = {}
    for module, name in DEFERRED.items():
        if module in sys.modules:  # already loaded by someone: typer takes the real one
            continue
        fake = types.ModuleType(module, f"stand-in for {module} while typer.rich_utils loads")
        setattr(fake, name, stand_in(module, name))
        placed[module] = fake
        sys.modules[module] = fake
    try:
        importlib.import_module("typer.rich_utils")
    finally:
        for module, fake in placed.items():
            if sys.modules.get(module) is fake:
                del sys.modules[module]
            parent, _, child = module.rpartition(".")
            package = sys.modules.get(parent)
            if package is not None and getattr(package, child, None) is fake:
                delattr(package, child)
    return True


def wanted(args: list[str]) -> bool:
    """Whether this command line will print help: `--help` anywhere before `--`, or no
    arguments (the app shows its help). A miss only costs the plain import."""
    if not args:
        return True
    for arg in args:
        if arg == "--":
            return False
        if arg == "--help":
            return True
    return False
