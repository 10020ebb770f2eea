"""Topology: devices and links as SVG coloured by health; a device's interfaces, sessions and logs."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from netops_agent.serve.db import StoreAccess
from netops_agent.serve.deps import access
from netops_agent.serve.observe import device_detail, topology
from netops_agent.serve.pages import render
from netops_agent.serve.svg import COLOURS, topology_svg

router = APIRouter(include_in_schema=False)
Access = Annotated[StoreAccess, Depends(access)]


@router.get("/topology", response_class=HTMLResponse)
def topology_page(request: Request, db: Access) -> HTMLResponse:
    with db.read() as store:
        topo = topology(store)
    faulty = [lk for lk in topo["links"] if lk["health"] != "ok"]
    return render(
        request,
        "topology.html",
        {"svg": Markup(topology_svg(topo)), "topo": topo, "faulty": faulty, "colours": COLOURS},
    )


@router.get("/topology/svg", response_class=HTMLResponse)
def topology_fragment(request: Request, db: Access) -> HTMLResponse:
    with db.read() as store:
        topo = topology(store)
    return HTMLResponse(topology_svg(topo))


@router.get("/devices/{name}", response_class=HTMLResponse)
def device_page(request: Request, name: str, db: Access) -> HTMLResponse:
    with db.read() as store:
        d = device_detail(store, name)
    return render(request, "device.html", {"d": d, "standalone": True})


@router.get("/devices/{name}/panel", response_class=HTMLResponse)
def device_panel(request: Request, name: str, db: Access) -> HTMLResponse:
    with db.read() as store:
        d = device_detail(store, name)
    return render(request, "_device.html", {"d": d})
