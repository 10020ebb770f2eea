"""NetBox REST exports -> our inventory (sites, devices, interfaces, cables).

Input: one JSON file holding the three lists NetBox returns for `/api/dcim/devices/`,
`/api/dcim/interfaces/` and `/api/dcim/cables/`, either as `{"devices": [...],
"interfaces": [...], "cables": [...]}` or as the raw paginated answers
(`{"devices": {"results": [...]}, ...}`). Cables use NetBox 3.3+ terminations
(`a_terminations` / `b_terminations`) or the older `termination_a` / `termination_b`.
Device roles map to ours by name (spine/core -> spine, edge/border/wan -> edge,
anything else -> leaf); `custom_fields.asn` and `primary_ip4` fill ASN and loopback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa

from netops_agent.errors import InputFileError
from netops_agent.models import Device, Interface, Inventory, Link, Site

_SECTIONS = ("devices", "interfaces", "cables")


def _results(doc: dict[str, Any], key: str, path: Path) -> list[dict[str, Any]]:
    part = doc.get(key)
    if isinstance(part, dict):
        part = part.get("results")
    if not isinstance(part, list):
        raise InputFileError(
            str(path),
            f"no {key} list",
            where=key,
            fix=f"put the results of /api/dcim/{key}/ under {key!r} (a list, or NetBox's paginated object)",
        )
    return part


def _name(obj: Any) -> str:
    if isinstance(obj, dict):
        return str(obj.get("name") or obj.get("slug") or obj.get("display") or "")
    return str(obj or "")


def _role(device: dict[str, Any]) -> str:
    role = _name(device.get("role") or device.get("device_role")).lower()
    if "spine" in role or "core" in role:
        return "spine"
    if any(w in role for w in ("edge", "border", "wan")):
        return "edge"
    return "leaf"


def _ends(cable: dict[str, Any]) -> list[tuple[str, str]]:
    ends = []
    for side in ("a", "b"):
        terms = cable.get(f"{side}_terminations")
        term = terms[0].get("object", terms[0]) if terms else cable.get(f"termination_{side}")
        if not isinstance(term, dict):
            return []
        ends.append((_name(term.get("device")), str(term.get("name", ""))))
    return ends


def load_netbox(path: Path) -> Inventory:
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputFileError(
            str(path), "file not found", fix="export NetBox with its REST API first"
        ) from None
    except json.JSONDecodeError as exc:
        raise InputFileError(str(path), f"not JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(doc, dict):
        raise InputFileError(str(path), "expected an object with devices, interfaces and cables")
    devices_raw, ifaces_raw, cables_raw = (_results(doc, k, path) for k in _SECTIONS)
    sites: dict[str, Site] = {}
    devices: list[Device] = []
    for n, d in enumerate(devices_raw):
        name = _name(d)
        if not name:
            raise InputFileError(str(path), "device without a name", where=f"devices[{n}]")
        site = _name(d.get("site")) or "default"
        sites.setdefault(site, Site(name=site, slug=site.lower().replace(" ", "-"), region=""))
        ip4 = _name(d.get("primary_ip4")) or str((d.get("primary_ip4") or {}).get("address", ""))
        loopback = ip4.split("/")[0] if ip4 else ""
        asn = (d.get("custom_fields") or {}).get("asn") or 0
        devices.append(
            Device(
                name=name,
                site=site,
                role=_role(d),
                platform="cisco_ios",
                asn=int(asn),
                loopback=loopback,
                router_id=loopback,
            )
        )
    known = {d.name for d in devices}
    interfaces: list[Interface] = []
    for n, i in enumerate(ifaces_raw):
        dev, name = _name(i.get("device")), str(i.get("name", ""))
        if dev not in known or not name:
            raise InputFileError(
                str(path),
                f"interface {name or '?'} on unknown device {dev or '?'}",
                where=f"interfaces[{n}]",
                fix="export devices and interfaces from the same NetBox",
            )
        kind = "loopback" if name.lower().startswith("loopback") else "p2p"
        speed = int(i.get("speed") or 1_000_000) // 1000
        interfaces.append(
            Interface(
                device=dev,
                name=name,
                kind=kind,
                mtu=int(i.get("mtu") or 1500),
                description=str(i.get("description") or ""),
                speed_mbps=speed,
            )
        )
    links: list[Link] = []
    for n, c in enumerate(cables_raw):
        ends = _ends(c)
        if len(ends) != 2 or not all(dev in known for dev, _ in ends):
            raise InputFileError(str(path), "cable without two device interfaces", where=f"cables[{n}]")
        (ad, ai), (bd, bi) = ends
        links.append(
            Link(id=str(c.get("id", n)), a_device=ad, a_interface=ai, b_device=bd, b_interface=bi, subnet="")
        )
    return Inventory(
        sites=list(sites.values()), devices=devices, interfaces=interfaces, links=links, bgp_sessions=[]
    )


def save_inventory(store: Any, inv: Inventory) -> None:
    """Replace the inventory tables with `inv` in one transaction (bulk through Arrow)."""
    parts = {
        "sites": inv.sites,
        "devices": inv.devices,
        "interfaces": inv.interfaces,
        "links": inv.links,
        "bgp_sessions": inv.bgp_sessions,
    }
    models = {"sites": Site, "devices": Device, "interfaces": Interface, "links": Link}
    with store.transaction():
        for table, rows in parts.items():
            if table in models:
                cols = list(models[table].model_fields)
                store.replace_table(table, pa.table({c: [getattr(r, c) for r in rows] for c in cols}))
            else:
                store.execute(f'DELETE FROM "{table}"')
