"""Reports: self-contained HTML or Markdown with metrics, cases and failed-case traces."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from netops_agent.evaluation.harness import EvalRun, evaluate
from netops_agent.evaluation.report import write_report
from netops_agent.evaluation.scenario import Case, Fault, Suite, Topology
from netops_agent.lab.sim.faults import ADMIN
from netops_agent.lab.sim.lab import SimLab


@pytest.fixture(scope="module")
def runs() -> list[EvalRun]:
    """The default agent, and the same agent with a planted bug (config changes ignored)."""
    suite = Suite(
        name="mini",
        topology=Topology(profile="small", seed=42),
        digest="abc123",
        cases=[
            Case(id="asn", seed=1, faults=[Fault(type="bgp_asn_mismatch")]),
            Case(id="quiet", seed=1),
        ],
    )
    good = evaluate(suite)
    real = SimLab.configure
    SimLab.configure = lambda self, device, lines, *, author="netops-agent": real(  # type: ignore[method-assign]
        self, device, lines if author == ADMIN else [], author=author
    )
    try:
        bad = evaluate(suite)
    finally:
        SimLab.configure = real  # type: ignore[method-assign]
    bad.options = replace(bad.options, agent="planted-bug")
    return [good, bad]


def test_html_report_compares_agents_and_traces_failures(runs: list[EvalRun], tmp_path: Path) -> None:
    path = write_report(tmp_path / "out" / "report.html", runs)
    text = path.read_text()
    assert text.startswith("<!doctype html>") and "<style>" in text
    assert "http://" not in text and "https://" not in text and "<script" not in text  # self-contained
    assert "default" in text and "planted-bug" in text and "abc123" in text
    assert "mitigation_success" in text and "asn" in text and "quiet" in text
    # the failed case is explained with its trace: why, evidence, plan, actions, validation
    assert "planted-bug: 1 failed case(s)" in text and "not mitigated" in text
    for section in ("Evidence", "Plan", "Actions", "Validation", "Ticket timeline"):
        assert f"<h4>{section}</h4>" in text
    assert "restore_golden_section" in text


def test_markdown_report_by_extension(runs: list[EvalRun], tmp_path: Path) -> None:
    text = write_report(tmp_path / "report.md", runs).read_text()
    assert text.startswith("# netops-agent evaluation: suite `mini`")
    assert "| metric | default | planted-bug |" in text
    assert "### default: 0 failed case(s)" in text and "### planted-bug: 1 failed case(s)" in text
    assert "#### asn: expected resolved, got escalated" in text and "*Validation*" in text
