"""Intake quality per case (reads ground truth: the pipeline's job, never the intake's)."""

from __future__ import annotations

from typing import Any

from netops_agent.models import Incident, InjectedFault, Inventory
from netops_agent.store import Store


def fault_places(fault: InjectedFault, inv: Inventory) -> tuple[set[tuple[str, str]], set[str]]:
    """(device, entity) pairs and whole devices whose alerts an injected fault explains."""
    t = fault.target
    links = {lk.id: lk for lk in inv.links}
    link = links.get(t.get("link", ""))
    if link is None and t.get("peer"):
        s = inv.session(t["device"], t["peer"])
        link = links.get(s.link_id) if s else None
    if link is None and t.get("interface"):
        link = inv.link_of(t["device"], t["interface"])
    pairs: set[tuple[str, str]] = {(t["device"], "config")}
    if link is not None:
        pairs |= set(link.ends())
        pairs |= {(s.device, s.peer_ip) for s in inv.bgp_sessions if s.link_id == link.id}
        return pairs, set()
    if t.get("interface"):
        return pairs | {(t["device"], t["interface"]), (t["device"], fault.params.get("prefix", ""))}, set()
    dev = t["device"]
    for lk in inv.links:
        if dev in (lk.a_device, lk.b_device):
            pairs.add(lk.peer_of(dev))
    pairs |= {(s.device, s.peer_ip) for s in inv.bgp_sessions if s.peer_device == dev}
    return pairs, {dev}


def _explains(alert: dict[str, Any], places: tuple[set[tuple[str, str]], set[str]]) -> bool:
    pairs, devices = places
    return alert["device"] in devices or (alert["device"], alert["entity"]) in pairs


def intake_metrics(
    scope: str, faults: list[InjectedFault], incidents: list[Incident], store: Store, inv: Inventory
) -> dict[str, Any]:
    """Per case: alerts raised, incidents opened, and how alerts of each fault were grouped."""
    alerts = store.query("SELECT device, entity, incident_id FROM alerts WHERE scope = ?", [scope])
    ids = {inc.id for inc in incidents}
    purity: list[float] = []
    explained: set[str] = set()
    for fault in faults:
        places = fault_places(fault, inv)
        mine = [a["incident_id"] for a in alerts if a["incident_id"] in ids and _explains(a, places)]
        explained.update(mine)
        if mine:
            purity.append(max(mine.count(i) for i in set(mine)) / len(mine))
    return {
        "healthy": not faults,
        "faults": len(faults),
        "alerts": len(alerts),
        "alerts_in_incidents": sum(a["incident_id"] in ids for a in alerts),
        "incidents": len(incidents),
        "purity": purity,
        "unexplained_incidents": len(ids - explained) if faults and alerts else 0,
        "false_incidents": 0 if faults else len(incidents),
    }


def summarize_intake(cases: list[dict[str, Any]]) -> dict[str, Any]:
    """The `intake` block of `run --json`."""
    alerts = sum(c.get("alerts", 0) for c in cases)
    incidents = sum(c.get("incidents", 0) for c in cases)
    purity = [p for c in cases for p in c.get("purity", [])]
    return {
        "alerts": alerts,
        "alerts_in_incidents": sum(c.get("alerts_in_incidents", 0) for c in cases),
        "incidents": incidents,
        "alert_to_incident_compression": round(alerts / incidents, 2) if incidents and alerts else None,
        "grouping_purity": round(sum(purity) / len(purity), 3) if purity else None,
        "faults_split": sum(p < 1.0 for p in purity),
        "faults_with_alerts": len(purity),
        "false_incidents_healthy": sum(c.get("false_incidents", 0) for c in cases),
        "healthy_cases": sum(bool(c.get("healthy")) for c in cases),
        "unexplained_incidents": sum(c.get("unexplained_incidents", 0) for c in cases),
    }
