"""HTTP face of the receivers, mounted by `netops-agent serve`.

`POST /api/v1/intake/alertmanager` is an Alertmanager `webhook_configs` receiver
(format version 4). It answers 200 once the notification's alerts are committed, so
Alertmanager's own retry covers a crash; a resend of the same alerts changes nothing
but their last-seen time. `GET /api/v1/intake/stats` counts what each receiver took in.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from fastapi import APIRouter, HTTPException, params

from netops_agent.receivers.alertmanager import AmWebhook, alert_rows
from netops_agent.receivers.hub import ReceiverHub


def make_router(hub: ReceiverHub, *, dependencies: Sequence[params.Depends] = ()) -> APIRouter:
    router = APIRouter(prefix="/api/v1/intake", tags=["intake"])
    mapping = hub.config.receivers.alertmanager

    @router.post("/alertmanager", dependencies=list(dependencies))
    def alertmanager(hook: AmWebhook) -> dict[str, Any]:
        """Take one Alertmanager webhook notification (grouped alerts are split)."""
        rows = alert_rows(hook, mapping)
        try:
            stored = hub.submit_alerts(rows).result(timeout=30)
        except FutureTimeout:
            raise HTTPException(503, "the receiver is busy; Alertmanager will retry") from None
        except Exception as exc:
            raise HTTPException(503, f"could not store the alerts ({exc}); Alertmanager will retry") from None
        return {"received": len(rows), **stored, "truncated_alerts": hook.truncatedAlerts}

    @router.get("/stats")
    def stats() -> dict[str, Any]:
        """What the receivers took in and stored since `serve` started."""
        return hub.stats.as_dict()

    return router
