"""`ntc._plain_verdict` decides an index row's Command pattern without compiling it only
where `re.match` of the expanded pattern (what `CliTable` runs) gives the same answer."""

from __future__ import annotations

import re

from ntc_templates.parse import _get_template_dir
from textfsm import clitable

from netops_agent.tools import ntc


def _typed(raw: str, full: bool) -> str:
    return re.sub(r"\[\[(.+?)\]\]", (lambda m: m.group(1)) if full else "", raw)


def test_every_decided_row_agrees_with_re_match() -> None:
    template_dir = _get_template_dir()
    expand = clitable.CliTable(None, template_dir)._PreParse
    _, rows = ntc._platform_rows(template_dir, "cisco_ios")
    patterns = sorted({r["Command"] for r in rows if r["Command"]})
    written = {r["Command"] for r in ntc._index(template_dir)[1]}  # every platform's commands
    commands = sorted(
        {_typed(p, full) for p in written if "\\" not in p for full in (True, False)}
        | {"show interfaces Gi0/1", "show ip int br", "sh ip ro", "ping 10.0.0.1", "show", ""}
    )
    assert len(patterns) > 100 and len(commands) > 1000
    decided = {True: 0, False: 0}
    for raw in patterns:
        compiled = re.compile(expand("Command", raw))
        for command in commands:
            verdict = ntc._plain_verdict(raw, command)
            if verdict is not None:
                assert verdict == bool(compiled.match(command)), (raw, command)
                decided[verdict] += 1
    assert decided[True] > 300 and decided[False] > 10000  # both answers are really given


def test_a_pattern_with_regex_syntax_is_left_to_re() -> None:
    assert ntc._plain_verdict("sh[[ow]] (ip )?int[[erfaces]]", "show ip int") is None
    assert ntc._plain_verdict("sh[[ow]] ip", "show ip route") is True
    assert ntc._plain_verdict("sh[[ow]] int[[erfaces]]", "show interfaces status") is True  # a prefix
    assert ntc._plain_verdict("sh[[ow]] int[[erfaces]] st[[atus]]", "show interfaces") is False
