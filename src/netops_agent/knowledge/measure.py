"""How well retrieval ranks runbooks for NOC-style text: MRR and recall@3.

A retrieval suite (`data/retrieval-suite.yaml`) is a list of texts as a NOC writes
them (shorthand, vendor log lines, user complaints), each with the fault types a
right answer handles. A text's rank is that of the first runbook whose
`fault_types` meet `expect`; MRR averages 1/rank (0 when no runbook matches) and
recall@3 counts ranks up to 3.

    python -m netops_agent.knowledge.measure [SUITE] [--runbooks FILE]
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from netops_agent.errors import InputFileError
from netops_agent.knowledge.index import Retriever

DEFAULT_SUITE = Path(__file__).resolve().parent.parent / "data" / "retrieval-suite.yaml"


class RetrievalCase(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=3)
    expect: list[str] = Field(min_length=1)


class RetrievalSuite(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = 1
    cases: list[RetrievalCase] = Field(min_length=1)


@dataclass(frozen=True)
class Scored:
    text: str
    expect: list[str]
    rank: int | None
    top: list[str]  # ids of the top three runbooks


def load_suite(path: Path | None = None) -> RetrievalSuite:
    path = path or DEFAULT_SUITE
    try:
        return RetrievalSuite.model_validate(yaml.safe_load(path.read_text()))
    except FileNotFoundError:
        raise InputFileError(str(path), "file not found", fix="pass an existing retrieval suite") from None
    except (yaml.YAMLError, ValidationError) as exc:
        raise InputFileError(str(path), f"not a retrieval suite: {exc}".splitlines()[0]) from None


def score(retriever: Retriever, suite: RetrievalSuite, k: int = 100) -> tuple[dict[str, float], list[Scored]]:
    """Rank every text; return {mrr, recall_at_3, cases} and the per-text ranks."""
    rows = []
    for case in suite.cases:
        hits = retriever.retrieve(case.text, k=k)
        want = set(case.expect)
        rank = next((n for n, h in enumerate(hits, 1) if want & set(h.fault_types)), None)
        rows.append(Scored(case.text, case.expect, rank, [h.id for h in hits[:3]]))
    n = len(rows)
    mrr = sum(1.0 / r.rank for r in rows if r.rank) / n
    r3 = sum(1 for r in rows if r.rank and r.rank <= 3) / n
    return {"mrr": round(mrr, 4), "recall_at_3": round(r3, 4), "cases": float(n)}, rows


def main(argv: list[str] | None = None) -> int:
    import argparse

    from netops_agent.knowledge import TfidfRetriever, build_index, load_runbooks
    from netops_agent.store import Store

    ap = argparse.ArgumentParser(description="Score runbook retrieval on a retrieval suite.")
    ap.add_argument("suite", nargs="?", type=Path, default=None)
    ap.add_argument("--runbooks", type=Path, default=None)
    ap.add_argument("-v", "--verbose", action="store_true", help="list texts not ranked first")
    args = ap.parse_args(argv)
    store = Store(":memory:")
    build_index(store, load_runbooks(args.runbooks))
    metrics, rows = score(TfidfRetriever(store), load_suite(args.suite))
    if args.verbose:
        for r in rows:
            if r.rank != 1:
                print(f"rank {r.rank}: {r.text!r} expect {r.expect} top {r.top}")
    print(f"MRR {metrics['mrr']:.3f}  recall@3 {metrics['recall_at_3']:.3f}  ({int(metrics['cases'])} texts)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
