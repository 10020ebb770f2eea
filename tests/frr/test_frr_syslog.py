"""FRR's daemon logs as the intake's syslog feed: normalised into the tags the shipped
detection rules match, read incrementally, never losing a line logged in the same second.
Pure file parsing: no root or FRR needed."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from netops_agent.intake.config import load_detection
from netops_agent.lab.frr.syslog import FrrSyslog, normalise

LINES = {
    "ospf-down": "2026/11/30 01:58:39 OSPF: [Y05P2-YJVXY] AdjChg: Nbr 10.255.0.1, NbrIP 10.1.0.0 (default) "
    "on eth1:10.1.0.1: Full -> Deleted (KillNbr)",
    "ospf-full": "2026/11/30 01:58:28 OSPF: [Y05P2-YJVXY] AdjChg: Nbr 10.255.0.2, NbrIP 10.1.0.8 (default) "
    "on eth2:10.1.0.9: Exchange -> Full (ExchangeDone)",
    "bgp-down": "2026/11/30 01:58:39 BGP: [PXVXG-TFNNT] %ADJCHANGE: neighbor 10.1.0.0(spine1) in vrf default "
    "Down Interface down",
    "bgp-up": "2026/11/30 01:58:49 BGP: [N9HHH-F8H1M] %ADJCHANGE: neighbor 10.1.0.0(spine1) "
    "in vrf default Up",
    "bgp-open": "2026/11/30 01:58:50 BGP: [HEWAW-ZAPS3] %NOTIFICATION: sent to neighbor 10.1.0.12 2/2 "
    "(OPEN Message Error/Bad Peer AS) 2 bytes 00 c8",
    "config": "2026/11/30 01:58:39 SYS: %CONFIG_I: Configured from vty by netops: interface eth1; shutdown",
    "other": "2026/11/30 01:58:28 BGP: [MJ4D6-VBJKV][EC 33554454] 10.1.0.0 [Error] bgp_read_packet error",
}


def _rule_hits(line: str) -> list[tuple[str, str | None]]:
    """(rule, entity) of every shipped syslog rule whose tag and raise pattern match."""
    row = normalise("leaf1", line)
    assert row is not None
    tag = f"{row.facility}-{row.severity}-{row.mnemonic}"
    hits = []
    for rule in load_detection().syslog:
        m = re.search(rule.pattern, row.message) if rule.tag == tag else None
        if m:
            hits.append((rule.name, m.groupdict().get("entity") or rule.entity))
    return hits


def _clears(line: str) -> list[str]:
    row = normalise("leaf1", line)
    assert row is not None
    tag = f"{row.facility}-{row.severity}-{row.mnemonic}"
    return [r.name for r in load_detection().syslog
            if (r.clear_tag or r.tag) == tag and r.clear and re.search(r.clear, row.message)]  # fmt: skip


def test_frr_messages_match_the_shipped_rules_with_the_right_entity() -> None:
    assert _rule_hits(LINES["ospf-down"]) == [("ospf-adjacency-down", "eth1")]
    assert _rule_hits(LINES["bgp-down"]) == [("bgp-adjacency-down", "10.1.0.0")]
    assert _rule_hits(LINES["bgp-open"]) == [("bgp-open-error", "10.1.0.12")]
    assert _rule_hits(LINES["config"]) == [("config-change", "config")]
    # recoveries clear, and neither they nor unrelated lines raise anything
    assert _rule_hits(LINES["ospf-full"]) == [] and _clears(LINES["ospf-full"]) == ["ospf-adjacency-down"]
    assert _rule_hits(LINES["bgp-up"]) == [] and _clears(LINES["bgp-up"]) == ["bgp-adjacency-down"]
    assert _rule_hits(LINES["other"]) == []
    other = normalise("leaf1", LINES["other"])
    assert other is not None and (other.facility, other.severity, other.mnemonic) == ("BGP", 3, "LOG")
    assert normalise("leaf1", "not a log line") is None


@dataclass
class _Router:
    name: str
    dir: str


@dataclass
class _State:
    routers: dict[str, _Router] = field(default_factory=dict)


@dataclass
class _Lab:
    state: _State


def test_the_feed_tails_files_and_keeps_order_within_a_second(tmp_path: Path) -> None:
    lab = _Lab(_State({n: _Router(n, str(tmp_path / n)) for n in ("leaf1", "spine1")}))
    for r in lab.state.routers.values():
        Path(r.dir).mkdir()
    (tmp_path / "leaf1" / "bgpd.log").write_text(LINES["bgp-up"] + "\n")
    feed = FrrSyslog(lab)
    feed.skip_to_end()  # what was logged before monitoring started is not received
    assert feed.since(None).num_rows == 0
    with (tmp_path / "leaf1" / "ospfd.log").open("a") as fh:
        fh.write(LINES["ospf-down"] + "\n")
    with (tmp_path / "spine1" / "bgpd.log").open("a") as fh:
        fh.write(LINES["bgp-down"] + "\n" + LINES["bgp-up"][:40])  # the last line is half written
    first = feed.since(None)
    assert first.num_rows == 2 and set(first["device"].to_pylist()) == {"leaf1", "spine1"}
    last = max(first["ts"].to_pylist())
    with (tmp_path / "leaf1" / "config.log").open("a") as fh:  # same second as the lines read
        fh.write(LINES["config"] + "\n")
    with (tmp_path / "spine1" / "bgpd.log").open("a") as fh:
        fh.write(LINES["bgp-up"][40:] + "\n")
    newer = feed.since(last)
    assert newer["mnemonic"].to_pylist() == ["CONFIG_I", "ADJCHANGE"]
    assert all(ts > last for ts in newer["ts"].to_pylist())
    assert newer["message"].to_pylist()[1] == "neighbor 10.1.0.0 Up"
    assert feed.since(None).num_rows == 4 and feed.since(last + timedelta(days=1)).num_rows == 0
    assert isinstance(last, datetime) and last.tzinfo is None
