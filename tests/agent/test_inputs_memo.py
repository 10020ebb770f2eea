"""`diagnosis.inputs` is kept per runbook object: the same answer as computing it afresh for
every shipped runbook, and a changed runbook (a new object) gets its own answer."""

from __future__ import annotations

from netops_agent import diagnosis
from netops_agent.services import load_runbooks


def test_kept_inputs_are_those_computed_afresh() -> None:
    books = load_runbooks()
    assert len(books) > 5
    diagnosis._INPUTS.clear()
    first = [diagnosis.inputs(rb) for rb in books]
    assert first == [diagnosis._inputs(rb) for rb in books]
    assert any("interface" in f for f in first) and any("peer" in f for f in first)
    assert [diagnosis.inputs(rb) for rb in books] == first  # answered from what is kept
    assert len(diagnosis._INPUTS) == len(books)


def test_a_changed_runbook_is_asked_afresh() -> None:
    books = load_runbooks()
    rb = next(b for b in books if b.evidence and "interface" in diagnosis.inputs(b))
    step = rb.evidence[0]
    where = {**step.where, "name": "{some_new_value}"}
    changed = rb.model_copy(update={"evidence": [step.model_copy(update={"where": where}), *rb.evidence[1:]]})
    assert "some_new_value" in diagnosis.inputs(changed)
    assert "some_new_value" not in diagnosis.inputs(rb)
