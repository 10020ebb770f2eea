"""What the dashboard shows of the network: inventory coloured by the latest observations.

Health comes only from what monitoring sees (the newest telemetry sample per interface
and the active alerts), never from the lab's internals: a link is `alarm` when either
end reports oper-status down or carries a major/critical alert (its BGP sessions
included), `warn` for minor/warning alerts, else `ok`.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from netops_agent.errors import NotFoundError
from netops_agent.store import Store

ALARM = {"critical", "major"}
WARN = {"minor", "warning"}
RANK = {"ok": 0, "warn": 1, "alarm": 2}
OPER_DOWN = 2.0  # IF-MIB ifOperStatus: 1 up, 2 down
PLOT_METRICS = (
    "oper-status",
    "in-utilization",
    "out-utilization",
    "in-errors",
    "in-fcs-errors",
    "in-discards",
    "out-discards",
    "late-collisions",
    "bgp-session-established",
    "cpu-utilization",
    "memory-utilization",
)


def _health(severities: list[str]) -> str:
    if any(s in ALARM for s in severities):
        return "alarm"
    if any(s in WARN for s in severities):
        return "warn"
    return "ok"


def _worst(*levels: str) -> str:
    return max(levels, key=lambda v: RANK[v]) if levels else "ok"


def topology(store: Store) -> dict[str, Any]:
    """Devices and links with health and active alarms."""
    devices = store.query(
        "SELECT name, site, role, platform, loopback FROM devices ORDER BY site, role, name"
    )
    links = store.query(
        "SELECT id, a_device, a_interface, b_device, b_interface, subnet FROM links ORDER BY id"
    )
    alerts = store.query(
        "SELECT id, device, entity, kind, check_name, severity, message FROM alerts "
        "WHERE state = 'active' ORDER BY id"
    )
    down = {
        (r["device"], r["entity"])
        for r in store.query(
            "SELECT device, entity, arg_max(value, ts) AS v FROM telemetry "
            "WHERE metric = 'oper-status' GROUP BY ALL HAVING v = ?",
            [OPER_DOWN],
        )
    }
    session_link = {
        (r["device"], r["peer_ip"]): r["link_id"]
        for r in store.query("SELECT device, peer_ip, link_id FROM bgp_sessions")
    }
    end_link = {}
    for lk in links:
        end_link[(lk["a_device"], lk["a_interface"])] = lk["id"]
        end_link[(lk["b_device"], lk["b_interface"])] = lk["id"]
    by_device: dict[str, list[dict[str, Any]]] = defaultdict(list)
    by_link: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for a in alerts:
        by_device[a["device"]].append(a)
        key = (a["device"], a["entity"])
        link_id = end_link.get(key) or session_link.get(key)
        if link_id:
            by_link[link_id].append(a)
    for lk in links:
        ends = [(lk["a_device"], lk["a_interface"]), (lk["b_device"], lk["b_interface"])]
        level = _health([a["severity"] for a in by_link[lk["id"]]])
        lk["oper_down"] = [f"{d} {i}" for d, i in ends if (d, i) in down]
        lk["health"] = _worst(level, "alarm" if lk["oper_down"] else "ok")
        lk["alarms"] = [_alarm(a) for a in by_link[lk["id"]]]
    for d in devices:
        d["health"] = _health([a["severity"] for a in by_device[d["name"]]])
        d["alarms"] = [_alarm(a) for a in by_device[d["name"]]]
    return {"devices": devices, "links": links}


def _alarm(a: dict[str, Any]) -> dict[str, Any]:
    return {k: a[k] for k in ("id", "device", "entity", "check_name", "severity", "message")}


def device_detail(store: Store, name: str, *, log_lines: int = 30) -> dict[str, Any]:
    """One device: inventory, interfaces with their latest counters, BGP sessions, logs, alerts."""
    device = store.query_one("SELECT * FROM devices WHERE name = ?", [name])
    if device is None:
        known = [r["name"] for r in store.query("SELECT name FROM devices ORDER BY name LIMIT 12")]
        raise NotFoundError(f"no device {name!r}; devices include: {', '.join(known) or 'none (no lab yet)'}")
    latest = store.query(
        "SELECT entity, metric, arg_max(value, ts) AS value FROM telemetry WHERE device = ? GROUP BY ALL",
        [name],
    )
    metrics: dict[str, dict[str, float]] = defaultdict(dict)
    for r in latest:
        metrics[r["entity"]][r["metric"]] = r["value"]
    interfaces = store.query(
        "SELECT name, kind, ip, prefixlen, mtu, description, speed_mbps FROM interfaces "
        "WHERE device = ? ORDER BY name",
        [name],
    )
    for i in interfaces:
        m = metrics.get(i["name"], {})
        i["oper_status"] = {1.0: "up", OPER_DOWN: "down"}.get(m.get("oper-status", 0.0), "unknown")
        i["admin_status"] = {1.0: "up", OPER_DOWN: "down"}.get(m.get("admin-status", 0.0), "unknown")
        i["in_utilization"] = m.get("in-utilization")
        i["in_errors"] = m.get("in-errors")
    sessions = store.query(
        "SELECT device, peer_device, local_ip, peer_ip, local_as, remote_as, link_id FROM bgp_sessions "
        "WHERE device = ? ORDER BY peer_ip",
        [name],
    )
    for s in sessions:
        est = metrics.get(s["peer_ip"], {}).get("bgp-session-established")
        s["established"] = None if est is None else bool(est)
    logs = store.query(
        "SELECT ts, facility, severity, mnemonic, message FROM events WHERE device = ? "
        "ORDER BY ts DESC LIMIT ?",
        [name, log_lines],
    )
    alerts = store.query(
        "SELECT id, entity, check_name, severity, state, first_seen, message, incident_id FROM alerts "
        "WHERE device = ? ORDER BY first_seen DESC, id DESC LIMIT 50",
        [name],
    )
    system = metrics.get("system", {})
    return {
        "device": device,
        "system": {
            "cpu_utilization": system.get("cpu-utilization"),
            "memory_utilization": system.get("memory-utilization"),
        },
        "interfaces": interfaces,
        "bgp_sessions": sessions,
        "logs": logs,
        "alerts": alerts,
    }


def incident_telemetry(store: Store, incident_id: str, *, max_panels: int = 3) -> dict[str, Any]:
    """Telemetry of what an incident is about, before and after the agent's changes.

    Entities are the incident's own (device, interface), its suspects' and its alerts';
    the panels are the metrics that moved on them (in a fixed order of interest).
    """
    inc = store.query_one("SELECT id, device, interface, suspects FROM incidents WHERE id = ?", [incident_id])
    if inc is None:
        raise NotFoundError(f"no incident {incident_id!r}; list them at /api/v1/incidents")
    import json

    pairs: set[tuple[str, str]] = set()
    if inc["interface"]:
        pairs.add((inc["device"], inc["interface"]))
    for s in json.loads(inc["suspects"] or "[]"):
        if s.get("interface"):
            pairs.add((s["device"], s["interface"]))
        if s.get("peer"):
            pairs.add((s["device"], s["peer"]))
    for a in store.query("SELECT device, entity FROM alerts WHERE incident_id = ?", [incident_id]):
        pairs.add((a["device"], a["entity"]))
    pairs.add((inc["device"], "system"))
    changes = store.query(
        "SELECT ts, device, tool, status, kind FROM changes WHERE incident_id = ? AND status = 'applied' "
        "ORDER BY ts",
        [incident_id],
    )
    if not pairs:
        return {"incident": incident_id, "changes": changes, "panels": []}
    # One scan: a row per (metric, device, entity) with how many values it took and its
    # samples as two lists; the incident's pairs and the panels are picked from those few
    # rows (no per-sample rows reach Python).
    devices = sorted({p[0] for p in pairs})
    entities = sorted({p[1] for p in pairs})
    rows = store.query(
        f"SELECT metric, device, entity, count(DISTINCT value) AS n_values, "
        f"list(ts ORDER BY ts) AS ts, list(value ORDER BY ts) AS value FROM telemetry "
        f"WHERE device IN ({_marks(devices)}) AND entity IN ({_marks(entities)}) "
        f"AND metric IN ({_marks(PLOT_METRICS)}) GROUP BY ALL",
        [*devices, *entities, *PLOT_METRICS],
    )
    series: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in sorted(rows, key=lambda r: f"{r['device']} {r['entity']}"):
        if (r["device"], r["entity"]) in pairs:
            r["label"] = f"{r['device']} {r['entity']}"
            series[r["metric"]].append(r)
    chosen = []
    for metric in PLOT_METRICS:
        moved = [r for r in series.get(metric, []) if r["n_values"] > 1]
        if moved:
            chosen.append((metric, moved[:4]))
        if len(chosen) == max_panels:
            break
    if not chosen:  # nothing moved: still show the traffic on what the incident is about
        for metric in ("in-utilization", "bgp-session-established", "cpu-utilization"):
            if series.get(metric):
                chosen.append((metric, series[metric][:4]))
                break
    panels = [
        {
            "metric": metric,
            "series": [
                {"label": r["label"], "points": list(zip(r["ts"], r["value"], strict=True))} for r in rs
            ],
        }
        for metric, rs in chosen
    ]
    return {"incident": incident_id, "changes": changes, "panels": panels}


def _marks(values: Any) -> str:
    return ", ".join("?" for _ in values)
