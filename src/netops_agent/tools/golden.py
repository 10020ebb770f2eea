"""Configuration remediation with hier_config: the lines that take running to intended.

Used to restore one section from the golden config (config drift), and to roll a
device back to the snapshot taken before the agent changed it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

_SKIP = ("Building configuration", "Current configuration", "version ", "end", "!")


def _clean(text: str) -> str:
    """Drop banners and section terminators (IOS `!`, FRR's top-level `exit`)."""
    return "\n".join(
        line for line in text.splitlines() if line.strip() and not line.startswith(_SKIP) and line != "exit"
    )


def remediation_lines(running: str, intended: str, section: str | None = None) -> list[str]:
    """Config lines that turn `running` into `intended`, optionally only within `section`.

    `section` is a parent line such as "interface GigabitEthernet0/1" or
    "router bgp 65001"; "ip route" selects the static routes and "access-list NAME"
    the top-level entries of one flat access list (FRR, numbered IOS lists).
    """
    lines: list[str] = []
    for text, children in _remediation(running, intended):
        if section is not None:
            if section == "ip route" or section.startswith("access-list "):
                flat = section if section == "ip route" else f"{section} "
                if not (text.startswith(flat) or text.startswith(f"no {flat}")):
                    continue
            elif text != section:
                continue
        lines.append(text)
        lines.extend(children)
    return lines


@lru_cache(maxsize=256)
def _remediation(running: str, intended: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The whole remediation, as (top-level line, its indented children), memoised per
    process: the agent diffs the same unchanged devices again and again, section by
    section. Two configs that are the same once cleaned need nothing (hier_config's answer
    too: tests/tools/test_golden_cache.py), so neither is parsed."""
    have, want = _clean(running), _clean(intended)
    if have == want:
        return ()
    from hier_config import WorkflowRemediation

    rem = WorkflowRemediation(_parsed(have), _parsed(want)).remediation_config
    return tuple((child.text, tuple(f" {c.text}" for c in child.all_children())) for child in rem.children)


@lru_cache(maxsize=64)
def _parsed(text: str) -> Any:
    """One cleaned config text parsed by hier_config (~4 ms for a leaf), kept per process: a
    device's golden config and its unchanged running config meet many different partners.
    A remediation only reads the two trees it compares (it builds a new one for the delta),
    so a tree is shared safely. hier_config is imported here, on the first diff: loading it
    costs ~0.1 s that most commands never need."""
    from hier_config import Platform, get_hconfig

    return get_hconfig(Platform.CISCO_IOS, text)


def config_diff(running: str, intended: str) -> list[dict[str, str]]:
    """Drift from intended as rows {section, op, line}: op is `extra` (running has a line the
    golden config lacks) or `missing` (the golden config has a line running lacks).

    A flat access-list entry (`access-list NAME ...` at top level, as FRR and numbered
    IOS lists write them) gets the section "access-list NAME", so a named list reads
    the same whether its entries are nested (IOS `ip access-list extended NAME`) or not.
    """
    rows: list[dict[str, str]] = []
    section = ""
    for line in remediation_lines(running, intended):
        if not line.startswith(" ") and line.startswith(("interface", "router", "ip access-list")):
            section = line
            continue
        text = line.strip()
        op = "extra" if text.startswith("no ") else "missing"
        body = text[3:] if op == "extra" else text
        where = section if line.startswith(" ") else "global"
        if not line.startswith(" ") and body.startswith("access-list "):
            where = " ".join(body.split()[:2])
        rows.append({"section": where, "op": op, "line": body})
    return rows
