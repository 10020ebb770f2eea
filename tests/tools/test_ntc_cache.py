"""The cached ntc-templates parser gives exactly what `ntc_templates.parse.parse_output` gives.

Every golden device output (tests/lab/sim/golden) is parsed with the command the tools
use for it and with the command as typed, by both paths, twice and interleaved, so a
state machine that was not reset between calls would show up as a difference.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from ntc_templates.parse import ParsingException, parse_output

from netops_agent.tools import ios, ntc

GOLDEN = Path(__file__).parents[1] / "lab" / "sim" / "golden"

# golden file -> the commands its text is parsed with (as typed, and as tools/ios.py asks)
CASES = {
    "site1-leaf1__show_interfaces.txt": ["show interfaces"],
    "site1-leaf1__show_interfaces_status.txt": ["show interfaces status"],
    "site1-leaf1__show_ip_interface_brief.txt": ["show ip interface brief", "sh ip int br"],
    "site1-leaf1__show_ip_bgp_summary.txt": ["show ip bgp summary"],
    "site1-leaf1__show_ip_ospf_neighbor.txt": ["show ip ospf neighbor"],
    "site1-edge1__show_ip_route.txt": ["show ip route"],
    "site1-leaf1__show_ip_route_10_100_2_1.txt": ["show ip route"],
    "site1-leaf1__show_logging.txt": ["show logging"],
    "site1-leaf1__show_processes_cpu_sorted.txt": ["show processes cpu sorted", "show processes cpu"],
    "site1-leaf1__show_memory_statistics.txt": ["show memory statistics"],
    "site1-leaf1__show_access_lists.txt": ["show access-lists", "show access-list"],
    "site1-leaf1__show_running_config.txt": ["show running-config"],
    "site1-leaf1__show_version.txt": ["show version"],
    "site1-leaf1__show_interfaces_transceiver.txt": [
        "show interfaces transceiver",
        "show interface transceiver",
    ],
    "site1-leaf1__ping_10_100_2_1.txt": ["ping"],
    "site1-leaf1__traceroute_10_100_2_10.txt": ["traceroute"],
}


def _reference(command: str, text: str) -> list[dict] | type[ParsingException]:
    try:
        return parse_output(platform="cisco_ios", command=command, data=text)
    except ParsingException:
        return ParsingException


def _cached(command: str, text: str) -> list[dict] | type[ParsingException]:
    try:
        return ntc.parse("cisco_ios", command, text)
    except ParsingException:
        return ParsingException


def test_every_golden_output_is_covered() -> None:
    assert {p.name for p in GOLDEN.glob("*.txt")} == set(CASES)


def test_every_command_the_tools_parse_is_covered() -> None:
    asked = set(re.findall(r'ntc\("([^"]+)"', Path(ios.__file__).read_text()))
    assert asked, "no ntc(...) calls found in tools/ios.py"
    assert asked <= {c for cmds in CASES.values() for c in cmds}


def test_cached_parse_equals_parse_output_on_every_golden_output() -> None:
    pairs = [(cmd, (GOLDEN / name).read_text()) for name, cmds in CASES.items() for cmd in cmds]
    expected = [_reference(cmd, text) for cmd, text in pairs]
    parsed_rows = sum(len(e) for e in expected if isinstance(e, list))
    assert parsed_rows > 100  # the goldens really parse into rows, not just errors
    # twice over, interleaved: a compiled template is reused across different texts
    for _ in range(2):
        got = [_cached(cmd, text) for cmd, text in pairs]
        for (cmd, _text), want, have in zip(pairs, expected, got, strict=True):
            assert have == want, cmd
    # and the same text through one template after another text went through it
    a, b = (
        (GOLDEN / "site1-edge1__show_ip_route.txt").read_text(),
        (GOLDEN / "site1-leaf1__show_ip_route_10_100_2_1.txt").read_text(),
    )
    assert ntc.parse("cisco_ios", "show ip route", a) == _reference("show ip route", a)
    assert ntc.parse("cisco_ios", "show ip route", b) == _reference("show ip route", b)


def test_results_do_not_share_state_between_calls() -> None:
    text = (GOLDEN / "site1-leaf1__show_interfaces.txt").read_text()
    first = ntc.parse("cisco_ios", "show interfaces", text)
    first[0]["interface"] = "mutated"
    assert ntc.parse("cisco_ios", "show interfaces", text)[0]["interface"] != "mutated"


def test_unknown_command_raises_like_parse_output() -> None:
    with pytest.raises(ParsingException, match="no such command"):
        ntc.parse("cisco_ios", "no such command", "text")


def test_template_lookup_picks_the_row_clitable_picks() -> None:
    from ntc_templates.parse import _get_template_dir
    from textfsm import clitable

    template_dir = _get_template_dir()
    reference = clitable.CliTable("index", template_dir)
    asks = [("cisco_ios", c) for cmds in CASES.values() for c in cmds] + [
        ("cisco_ios", "sh int"),
        ("cisco_ios", "show ip bgp"),
        ("cisco_nxos", "show interface"),
        ("arista_eos", "show ip bgp summary"),
        ("juniper_junos", "show interfaces"),
        ("cisco_ios", "show nothing at all"),
    ]
    for platform, command in asks:
        attrs = {"Command": command, "Platform": platform}
        row = reference.index.GetRowMatch(attrs)
        want = reference.index.index[row]["Template"] if row else None
        assert ntc._lookup(attrs, template_dir) == want, (platform, command)


def _typed(raw: str, full: bool) -> str:
    """A command an index Command pattern is written for: every `[[..]]` completion typed out
    in full, or left out (the shortest form)."""
    return re.sub(r"\[\[(.+?)\]\]", (lambda m: m.group(1)) if full else "", raw)


def test_template_lookup_agrees_with_clitable_on_every_command_of_the_index() -> None:
    """`_lookup` rules rows out by their plain words before compiling them: over every row of
    the index (every platform), typed in full and in its shortest form, it picks the row
    `CliTable` picks (a command is often matched first by an earlier, shorter row)."""
    from ntc_templates.parse import _get_template_dir
    from textfsm import clitable

    template_dir = _get_template_dir()
    reference = clitable.CliTable("index", template_dir)
    index = reference.index.index
    asks = sorted(
        {
            (row["Platform"], cmd)
            for row in ntc._index(template_dir)[1]  # as written, before [[..]] is expanded
            if row["Command"] and "\\" not in row["Command"]
            for cmd in (_typed(row["Command"], True), _typed(row["Command"], False))
        }
    )
    assert len(asks) > 1000
    checked = 0
    for platform, command in asks:
        attrs = {"Command": command, "Platform": platform}
        row = reference.index.GetRowMatch(attrs)
        want = index[row]["Template"] if row else None
        assert ntc._lookup(attrs, template_dir) == want, (platform, command)
        checked += want is not None
    assert checked > 900


def test_surely_fails_rules_out_only_rows_that_cannot_match() -> None:
    assert ntc._surely_fails("sh[[ow]] int[[erfaces]] st[[atus]]", "show ip route")
    assert ntc._surely_fails("sh[[ow]] ip ro[[ute]] vrf", "show ip route")  # no word after route
    assert not ntc._surely_fails("sh[[ow]] int[[erfaces]] st[[atus]]", "sh interfaces status")
    assert not ntc._surely_fails("sh[[ow]] (ip )?int[[erfaces]]", "show ip route")  # regex: re decides
    assert not ntc._surely_fails("sh[[ow]] int[[erfaces]]", "show interfaces status")  # a prefix
    assert ntc._surely_fails("sh[[ow]] int[[erfaces]] status", "show inter-faces status")
