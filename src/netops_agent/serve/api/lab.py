"""The lab: status, topology with health, one device."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from netops_agent.serve.db import StoreAccess
from netops_agent.serve.deps import access
from netops_agent.serve.observe import device_detail, topology

router = APIRouter(prefix="/api/v1", tags=["lab"])
Access = Annotated[StoreAccess, Depends(access)]


@router.get("/lab/status")
def lab_status(db: Access) -> dict[str, Any]:
    """Devices with interfaces, OSPF and BGP health (`netops-agent lab status --json`, twin)."""
    from netops_agent.lab.sim import persist
    from netops_agent.lab.sim.status import device_status

    with db.read() as store:
        lab = persist.load(store)
    return {"backend": "sim", "clock": lab.now().isoformat(), "devices": device_status(lab)}


@router.get("/lab/topology")
def lab_topology(db: Access) -> dict[str, Any]:
    """Devices and links with health from the latest observations and active alarms."""
    with db.read() as store:
        return topology(store)


@router.get("/devices/{name}")
def device(name: str, db: Access) -> dict[str, Any]:
    """One device: interfaces with latest counters, BGP sessions, recent log lines, alerts."""
    with db.read() as store:
        return device_detail(store, name)
