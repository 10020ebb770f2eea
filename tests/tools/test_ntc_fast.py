"""The fast TextFSM (tools/ntc._FastFSM) gives the rows TextFSM gives.

`_FastFSM` finds the first matching rule of a state with one combined regex (built once a
state saw `HOT` lines) and skips the option hooks of Values that have none. Both ways of
finding the rule (combined: HOT=1; rule by rule: HOT never reached) are compared with
`textfsm.TextFSM` on a template that uses every option and operation, and with
`ntc_templates.parse.parse_output` on what the twin renders for every device.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
import textfsm
from ntc_templates.parse import parse_output

from netops_agent.lab.sim.lab import SimLab
from netops_agent.tools import ntc

TEMPLATE = r"""Value Filldown,Key CHASSIS (\S+)
Value Required NAME (\w+)
Value STATE (up|down)
Value List TAGS ((?P<tag>[a-z]+)=(?P<val>\d+))
Value List PLAIN ([A-Z]+)
Value Fillup SITE (\S+)
Value COUNT (\d+)
Value ECHO (\w+)

Start
  ^chassis\s+${CHASSIS}
  ^port\s+\S+ -> Continue.Record
  ^port\s+${NAME}\s+is\s+${STATE}
  ^\s+tag\s+${TAGS}
  ^\s+word\s+${PLAIN}
  ^\s+count\s+${COUNT} -> Continue
  ^\s+count\s+\d+\s+again -> Clear
  ^\s+twice\s+${ECHO}\s+\1
  ^site\s+${SITE}
  ^reset -> Clearall
  ^stop -> Record Tail
  ^BOOM -> Error "boom seen"

Tail
  ^port\s+${NAME}\s+is\s+${STATE} -> Record
  ^end -> End
"""

TEXT = """chassis c1
port alpha is up
 tag x=1
 tag y=22
 word ABC
 word DEF
 twice hello hello
port beta is down
 count 7
port gamma is up
 count 5 again
port gamma2 is up
site s9
reset
port delta is down
chassis c2
port eps is up
 tag z=3
stop
port zeta is up
port eta is down
end
port never is up
"""


def _rows(fsm: textfsm.TextFSM, text: str) -> list[list]:
    fsm.Reset()
    return fsm.ParseText(text)


@pytest.fixture
def hot(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(ntc._FastFSM, "HOT", 1)  # combined patterns from the first line
    yield


def test_every_option_and_operation_gives_textfsm_rows_with_combined_patterns(hot: None) -> None:
    ref = textfsm.TextFSM(io.StringIO(TEMPLATE))
    fast = ntc._FastFSM(io.StringIO(TEMPLATE))
    want = _rows(ref, TEXT)
    assert len(want) >= 5 and any(r[3] for r in want)  # the text really makes lists and rows
    for _ in range(2):  # the same FSM again: nothing kept between texts but the patterns
        assert _rows(fast, TEXT) == want
    patterns = list(fast._finders.values())
    assert any(p is not None for p in patterns)  # rules were found by a combined pattern
    # the Start state holds a backreference (\1): its rules are never combined
    assert fast._finders[(id(fast.states["Start"]), 0)] is None
    assert ntc._combined(fast.states["Tail"]) is not None


def test_rule_by_rule_gives_textfsm_rows() -> None:
    ref, fast = textfsm.TextFSM(io.StringIO(TEMPLATE)), ntc._FastFSM(io.StringIO(TEMPLATE))
    assert _rows(fast, TEXT) == _rows(ref, TEXT)
    assert not fast._finders  # HOT not reached: no combined pattern was built


def test_an_error_rule_raises_as_textfsm_does(hot: None) -> None:
    text = "chassis c1\nport a is up\nBOOM\n"
    for cls in (textfsm.TextFSM, ntc._FastFSM):
        with pytest.raises(textfsm.TextFSMError, match="boom seen"):
            _rows(cls(io.StringIO(TEMPLATE)), text)


def test_combined_pattern_picks_the_first_matching_rule(hot: None) -> None:
    """Two rules match the same line: the earlier one acts (the later one would set ECHO)."""
    template = "Value A (\\w+)\nValue B (\\w+)\n\nStart\n  ^x ${A}\n  ^x ${B} -> Record\n  ^r -> Record\n"
    ref, fast = textfsm.TextFSM(io.StringIO(template)), ntc._FastFSM(io.StringIO(template))
    text = "x one\nr\nx two\nr\n"
    assert _rows(fast, text) == _rows(ref, text) == [["one", ""], ["two", ""]]
    assert fast._finders and all(p is not None for p in fast._finders.values())


# --- ntc-templates on the twin's output ---------------------------------------------------------

COMMANDS = {  # as typed on the twin -> as the tools parse it
    "show interfaces": "show interfaces",
    "show interfaces status": "show interfaces status",
    "show ip interface brief": "show ip interface brief",
    "show ip bgp summary": "show ip bgp summary",
    "show ip ospf neighbor": "show ip ospf neighbor",
    "show ip route": "show ip route",
    "show processes cpu sorted": "show processes cpu",
    "show interfaces transceiver": "show interface transceiver",
}


@pytest.fixture(scope="module")
def outputs() -> list[tuple[str, str]]:
    lab = SimLab.build("small", seed=7)
    _ = lab.derived
    devices = [d.name for d in lab.inv.devices]
    # some variety: a link down and a shut interface
    link = lab.inv.links[0]
    lab.configure(link.a_device, [f"interface {link.a_interface}", " shutdown"])
    got = []
    for device in devices[:12]:
        for typed, parsed_as in COMMANDS.items():
            out = lab.execute(device, typed)
            if out.ok and out.text.strip():
                got.append((parsed_as, out.text))
    return got


@pytest.mark.parametrize("hot_lines", [1, None])
def test_twin_outputs_parse_as_parse_output(
    outputs: list[tuple[str, str]], hot_lines: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if hot_lines is not None:
        monkeypatch.setattr(ntc._FastFSM, "HOT", hot_lines)
    monkeypatch.setattr(ntc, "_template", ntc._template.__wrapped__)  # fresh FSMs per parse
    template_dir = ntc._template_dir(None)
    assert len(outputs) > 60
    rows = 0
    for command, text in outputs:
        want = parse_output(platform="cisco_ios", command=command, data=text)
        have = ntc._parsed.__wrapped__("cisco_ios", command, text, template_dir)[0]
        assert [dict(r) for r in have] == want, command
        rows += len(want)
    assert rows > 300


def test_a_continue_on_the_last_rule_of_a_state(hot: None) -> None:
    template = "Value A (\\w+)\n\nStart\n  ^r -> Record\n  ^x ${A} -> Continue\n"
    ref, fast = textfsm.TextFSM(io.StringIO(template)), ntc._FastFSM(io.StringIO(template))
    text = "x one\nr\nx two\n"
    assert _rows(fast, text) == _rows(ref, text) == [["one"], ["two"]]


def test_only_a_verified_textfsm_release_gets_the_fast_fsm() -> None:
    assert ntc._fsm_class(textfsm.__version__) is (
        ntc._FastFSM if textfsm.__version__ in ntc.VERIFIED_TEXTFSM else textfsm.TextFSM
    )
    assert ntc._fsm_class("2.1.0") is ntc._FastFSM
    assert ntc._fsm_class("2.2.0") is textfsm.TextFSM
    assert ntc._fsm_class(None) is textfsm.TextFSM


def test_an_unverified_release_parses_with_textfsm_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(textfsm, "__version__", "9.9.9")
    compiled = ntc._template.__wrapped__("cisco_ios", "show ip interface brief", ntc._template_dir(None))
    assert type(compiled.fsm) is textfsm.TextFSM
    text = "Interface   IP-Address  OK? Method Status  Protocol\nGi0/0   10.0.0.1  YES manual up  up\n"
    compiled.fsm.Reset()
    assert compiled.fsm.ParseText(text) == [["Gi0/0", "10.0.0.1", "up", "up"]]
