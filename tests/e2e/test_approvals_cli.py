"""Approvals through the CLI: list, approve, resume, then the audit shows the whole story."""

from __future__ import annotations

from tests.e2e.conftest import Cli


def test_approve_resume_audit(cli: Cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    suite = tmp_path / "s.yaml"
    suite.write_text("name: s\ncases:\n  - id: c\n    seed: 1\n    faults: [{type: bgp_max_prefix}]\n")
    [inc] = cli.json("run", "--scenario", str(suite))["incidents"]
    assert inc["approval"] == "A-0001" and "waiting for approval" in inc["reason"]
    [pending] = cli.json("approvals")
    assert pending["state"] == "pending" and "maximum-prefix 10000" in pending["diff"]
    cli("approve", "A-0001", "--by", "alice", "--comment", "peer confirmed")
    [resumed] = cli.json("resume")
    assert resumed["outcome"] == "resolved" and resumed["validated"]
    assert cli.json("approvals") == []
    kinds = [e["kind"] for e in cli.json("audit", inc["id"])]
    for kind in ("tool_call", "policy", "change", "approval", "ticket:approval", "ticket:transition"):
        assert kind in kinds, kind
    proc = cli("approve", "A-0001", check=False)
    assert proc.returncode != 0 and "already" in proc.stderr
