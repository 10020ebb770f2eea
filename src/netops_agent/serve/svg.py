"""Server-rendered SVG: the topology (devices by site and role, links coloured by health)
and line plots of telemetry with the agent's changes marked. No JavaScript needed.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from html import escape
from typing import Any

COLOURS = {"ok": "#2ca02c", "warn": "#ff9f1c", "alarm": "#d62728"}
ROLE_ROW = {"spine": 0, "leaf": 1, "edge": 2}
SERIES = ("#1f77b4", "#9467bd", "#8c564b", "#17becf")


def topology_svg(topo: dict[str, Any]) -> str:
    """Sites side by side; spines on top, leaves below, edges at the bottom."""
    by_site: dict[str, dict[int, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for d in topo["devices"]:
        by_site[d["site"] or "-"][ROLE_ROW.get(d["role"], 1)].append(d)
    step, row_h, pad = 46, 150, 40
    pos: dict[str, tuple[float, float]] = {}
    x0 = pad
    site_boxes = []
    for site in sorted(by_site):
        rows = by_site[site]
        width = max(len(r) for r in rows.values()) * step
        for row, devs in rows.items():
            span = len(devs) * step
            for n, d in enumerate(devs):
                pos[d["name"]] = (x0 + (width - span) / 2 + n * step + step / 2, pad + 30 + row * row_h)
        site_boxes.append((site, x0, width))
        x0 += width + pad
    w, h = max(x0, 200), pad * 2 + 30 + 2 * row_h + 20
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w:.0f} {h:.0f}" class="topology" '
        f'role="img" aria-label="topology">'
    ]
    for site, x, width in site_boxes:
        out.append(
            f'<rect x="{x - 8:.0f}" y="8" width="{width + 16:.0f}" height="{h - 16:.0f}" rx="8" '
            f'class="site"/>'
            f'<text x="{x:.0f}" y="28" class="site-label">{escape(site)}</text>'
        )
    for lk in sorted(topo["links"], key=lambda k: RANK_ORDER[k["health"]]):
        a, b = pos.get(lk["a_device"]), pos.get(lk["b_device"])
        if a is None or b is None:
            continue
        title = f"{lk['a_device']} {lk['a_interface']} - {lk['b_device']} {lk['b_interface']}: {lk['health']}"
        title += "".join(f"\n{al['severity']}: {al['message']}" for al in lk["alarms"][:6])
        title += "".join(f"\noper-status down: {e}" for e in lk.get("oper_down", []))
        width = 4 if lk["health"] != "ok" else 1.5
        out.append(
            f'<line x1="{a[0]:.1f}" y1="{a[1]:.1f}" x2="{b[0]:.1f}" y2="{b[1]:.1f}" '
            f'stroke="{COLOURS[lk["health"]]}" stroke-width="{width}" class="link {lk["health"]}" '
            f'data-link="{escape(lk["id"])}"><title>{escape(title)}</title></line>'
        )
    for d in topo["devices"]:
        x, y = pos[d["name"]]
        title = f"{d['name']} ({d['role']}): {d['health']}"
        title += "".join(f"\n{al['severity']}: {al['message']}" for al in d["alarms"][:6])
        short = d["name"].split("-", 1)[-1]
        out.append(
            f'<g class="node" hx-get="/devices/{escape(d["name"])}/panel" hx-target="#device-panel" '
            f'data-device="{escape(d["name"])}">'
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="13" fill="{COLOURS[d["health"]]}" '
            f'class="device {d["health"]}"><title>{escape(title)}</title></circle>'
            f'<text x="{x:.1f}" y="{y + 27:.1f}" class="device-label">{escape(short)}</text></g>'
        )
        if d["alarms"]:
            out.append(
                f'<text x="{x + 10:.1f}" y="{y - 10:.1f}" class="alarm-count">{len(d["alarms"])}</text>'
            )
    out.append("</svg>")
    return "".join(out)


RANK_ORDER = {"ok": 0, "warn": 1, "alarm": 2}


def plot_svg(
    panel: dict[str, Any], changes: list[dict[str, Any]], *, width: int = 640, height: int = 180
) -> str:
    """One metric over time: a line per entity, dashed markers at each applied change."""
    pts = [p for s in panel["series"] for p in s["points"]]
    if not pts:
        return ""
    t0, t1 = min(p[0] for p in pts), max(p[0] for p in pts)
    v0, v1 = min(p[1] for p in pts), max(p[1] for p in pts)
    if v1 == v0:
        v1 = v0 + 1
    left, right, top, bottom = 56, 12, 22, 28
    pw, ph = width - left - right, height - top - bottom
    span = max((t1 - t0).total_seconds(), 1.0)

    def x(t: datetime) -> float:
        return left + (t - t0).total_seconds() / span * pw

    def y(v: float) -> float:
        return top + ph - (v - v0) / (v1 - v0) * ph

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="plot" '
        f'data-metric="{escape(panel["metric"])}" role="img" aria-label="{escape(panel["metric"])}">',
        f'<text x="{left}" y="14" class="plot-title">{escape(panel["metric"])}</text>',
        f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" class="plot-area"/>',
        f'<text x="{left - 4}" y="{top + 8}" class="axis" text-anchor="end">{_label(panel, v1)}</text>',
        f'<text x="{left - 4}" y="{top + ph}" class="axis" text-anchor="end">{_label(panel, v0)}</text>',
        f'<text x="{left}" y="{height - 8}" class="axis">{t0:%H:%M:%S}</text>',
        f'<text x="{left + pw}" y="{height - 8}" class="axis" text-anchor="end">{t1:%H:%M:%S}</text>',
    ]
    for c in changes:
        if t0 <= c["ts"] <= t1:
            cx = x(c["ts"])
            label = escape(f"{c['ts']:%H:%M:%S} change: {c['device']} {c['tool']}")
            out.append(
                f'<line x1="{cx:.1f}" y1="{top}" x2="{cx:.1f}" y2="{top + ph}" class="change-marker">'
                f"<title>{label}</title></line>"
            )
    for n, s in enumerate(panel["series"]):
        path = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in s["points"])
        colour = SERIES[n % len(SERIES)]
        out.append(
            f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="1.6">'
            f"<title>{escape(s['label'])}</title></polyline>"
        )
        out.append(
            f'<text x="{left + pw - 4}" y="{top + 12 + n * 12}" class="legend" text-anchor="end" '
            f'fill="{colour}">{escape(s["label"])}</text>'
        )
    out.append("</svg>")
    return "".join(out)


def _num(v: float) -> str:
    return f"{v:.0f}" if abs(v) >= 100 or v == int(v) else f"{v:.2f}"


def _label(panel: dict[str, Any], v: float) -> str:
    if panel["metric"] in ("oper-status", "admin-status"):  # IF-MIB: 1 up, 2 down
        return {1.0: "up", 2.0: "down"}.get(v, _num(v))
    if panel["metric"] == "bgp-session-established":
        return {1.0: "estab", 0.0: "down"}.get(v, _num(v))
    return _num(v)
