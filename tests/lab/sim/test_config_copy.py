"""DeviceConfig.copy is a deep copy: equal to copy.deepcopy and sharing nothing mutable."""

from __future__ import annotations

import copy
import dataclasses

from netops_agent.lab.sim.config import AclEntry, DeviceConfig, StaticRoute, apply_lines
from netops_agent.lab.sim.topology import generate

IMMUTABLE = (str, int, float, bool, type(None), tuple, StaticRoute)


def _records(cfg: DeviceConfig) -> list[object]:
    out: list[object] = [*cfg.interfaces.values(), *[e for es in cfg.acls.values() for e in es]]
    if cfg.ospf:
        out.append(cfg.ospf)
    if cfg.bgp:
        out += [*cfg.bgp.neighbors.values()]
    return out


def test_copy_equals_deepcopy_and_shares_nothing_mutable() -> None:
    _, golden = generate("medium", 42)
    cfg = golden["site1-leaf1"]
    apply_lines(
        cfg, ["ip access-list extended BLOCK", " 10 deny ip any host 10.9.9.9", " 20 permit ip any any"]
    )
    assert cfg.acls and cfg.bgp and cfg.ospf and cfg.bgp.neighbors
    dup = cfg.copy()
    assert dup == copy.deepcopy(cfg)
    # every leaf of every record is immutable, so copying records one level is deep
    for rec in _records(cfg):
        for f in dataclasses.fields(rec):  # type: ignore[arg-type]
            assert isinstance(getattr(rec, f.name), IMMUTABLE), (type(rec).__name__, f.name)
    for name in ("interfaces", "statics", "acls"):
        assert getattr(dup, name) is not getattr(cfg, name)
    assert dup.bgp is not cfg.bgp and dup.bgp.neighbors is not cfg.bgp.neighbors
    assert dup.bgp.networks is not cfg.bgp.networks and dup.ospf is not cfg.ospf
    for a, b in zip(_records(dup), _records(cfg), strict=True):
        assert a is not b
    # mutate the copy everywhere: the original does not move
    before = copy.deepcopy(cfg)
    next(iter(dup.interfaces.values())).shutdown = True
    next(iter(dup.bgp.neighbors.values())).shutdown = True
    dup.bgp.networks.append(("10.9.9.0", 24))
    dup.acls["BLOCK"].append(AclEntry(30, "deny", "ip", "any", "any"))
    dup.acls["BLOCK"][0].action = "permit"
    dup.statics.append(StaticRoute("10.9.9.0", 24, "Null0"))
    dup.ospf.router_id = "9.9.9.9"
    assert cfg == before
