"""Runbooks, retrieval and the fault catalog."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from netops_agent.errors import NotFoundError
from netops_agent.serve.db import StoreAccess
from netops_agent.serve.deps import access

router = APIRouter(prefix="/api/v1", tags=["knowledge"])
Access = Annotated[StoreAccess, Depends(access)]
NO_INDEX = "no runbook index in the database yet; run `netops-agent run` (or `netops-agent retrieve`) once"


@router.get("/runbooks")
def runbooks(db: Access) -> list[dict[str, Any]]:
    """The runbooks in the database's knowledge base (id, title, fault types, symptoms)."""
    from netops_agent.knowledge import stored_runbooks

    with db.read() as store:
        books = stored_runbooks(store)
    return [
        {"id": b.id, "title": b.title, "fault_types": b.fault_types, "symptoms": b.symptoms, "scope": b.scope}
        for b in sorted(books.values(), key=lambda b: b.id)
    ]


@router.get("/runbooks/{runbook_id}")
def runbook(runbook_id: str, db: Access) -> dict[str, Any]:
    from netops_agent.knowledge import stored_runbooks

    with db.read() as store:
        books = stored_runbooks(store)
    if runbook_id not in books:
        raise NotFoundError(f"no runbook {runbook_id!r}; known: {', '.join(sorted(books)) or 'none'}")
    return books[runbook_id].model_dump(mode="json")


@router.get("/retrieve")
def retrieve(
    db: Access,
    q: Annotated[str, Query(min_length=2, max_length=500, description="Symptom text.")],
    top_k: Annotated[int, Query(ge=1, le=50)] = 3,
) -> list[dict[str, Any]]:
    """Rank runbooks for a symptom description (`netops-agent retrieve TEXT --json`)."""
    from netops_agent.knowledge import TfidfRetriever

    with db.read() as store:
        if not store.scalar("SELECT count(*) FROM runbook_vocab"):
            raise NotFoundError(NO_INDEX)
        hits = TfidfRetriever(store).retrieve(q, k=top_k)
    return [{"id": h.id, "title": h.title, "score": h.score, "fault_types": h.fault_types} for h in hits]


@router.get("/faults")
def faults() -> list[dict[str, Any]]:
    """The fault catalog (`netops-agent faults --json`)."""
    from netops_agent.catalog import catalog_rows

    return catalog_rows()
