"""`ntc._platform_rows` keeps the index rows whose Platform pattern `re.match`es the platform
(what `CliTable` runs), deciding plain patterns without compiling them (issue 13)."""

from __future__ import annotations

import re

from ntc_templates.parse import _get_template_dir
from textfsm import clitable

from netops_agent.tools import ntc


def test_the_rows_kept_are_those_re_match_keeps_for_every_platform() -> None:
    template_dir = _get_template_dir()
    expand = clitable.CliTable(None, template_dir)._PreParse
    _, rows = ntc._index(template_dir)
    written = {r["Platform"] for r in rows}
    platforms = sorted(written | {p + "_x" for p in written} | {"cisco", "hp_procurve", "x_vyos_y", ""})
    plain = [p for p in written if re.fullmatch(r"[A-Za-z0-9_]+", expand("Platform", p))]
    assert 0 < len(plain) < len(written)  # both ways are taken
    for platform in platforms:
        want = [
            r
            for r in rows
            if not expand("Platform", r["Platform"]) or re.match(expand("Platform", r["Platform"]), platform)
        ]
        assert ntc._platform_rows.__wrapped__(template_dir, platform)[1] == want, platform
