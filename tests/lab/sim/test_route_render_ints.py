"""`show ip route`, `show ip route A.B.C.D`, `show ip bgp summary` and `show ip ospf
neighbor` order, group and match addresses by integers: the same text as the
`ipaddress` objects they used (kept here as the reference), on every device of a twin,
healthy and after faults that take routes away."""

from __future__ import annotations

import ipaddress

import pytest

from netops_agent.lab.sim import render_routing as rr
from netops_agent.lab.sim.cli import run_command
from netops_agent.lab.sim.control import SimControl
from netops_agent.lab.sim.lab import SimLab
from netops_agent.lab.sim.routing import Route
from netops_agent.models import FaultSpec


def _ref_best(lab: SimLab, device: str) -> list[Route]:
    best: dict[tuple[str, int], Route] = {}
    for r in lab.routing.routes(device):
        k = (r.network, r.prefixlen)
        if k not in best or r.distance < best[k].distance:
            best[k] = r
    return sorted(best.values(), key=lambda r: (int(ipaddress.IPv4Address(r.network)), r.prefixlen))


def _ref_table(lab: SimLab, device: str) -> str:
    routes = _ref_best(lab, device)
    age = rr._route_age(lab, device)
    groups: dict[ipaddress.IPv4Network, list[Route]] = {}
    for r in routes:
        first = int(r.network.split(".")[0])
        plen = 8 if first < 128 else 16 if first < 192 else 24
        groups.setdefault(ipaddress.IPv4Network(f"{r.network}/{plen}", strict=False), []).append(r)
    out = [rr.ROUTE_CODES.rstrip("\n"), ""]
    for major in sorted(groups, key=lambda n: int(n.network_address)):
        members = groups[major]
        if len(members) == 1 and members[0].prefixlen == major.prefixlen:
            out.append(rr._route_line(members[0], age, True, 6))
            continue
        masks = sorted({r.prefixlen for r in members})
        if len(masks) == 1:
            out.append(f"      {major.network_address}/{masks[0]} is subnetted, {len(members)} subnets")
        else:
            out.append(f"      {major} is variably subnetted, {len(members)} subnets, {len(masks)} masks")
        out += [rr._route_line(r, age, len(masks) > 1, 9) for r in members]
    return "\n".join(out) + "\n"


def _ref_entry_route(lab: SimLab, device: str, ip: str) -> Route | None:
    addr = ipaddress.IPv4Address(ip)
    hits = [r for r in _ref_best(lab, device) if addr in ipaddress.IPv4Network(f"{r.network}/{r.prefixlen}")]
    return max(hits, key=lambda r: r.prefixlen) if hits else None


def _check(lab: SimLab) -> int:
    checked = 0
    targets = sorted({r.network for d in lab.inv.device_names() for r in lab.routing.routes(d)})
    targets = [*targets[:: max(len(targets) // 12, 1)], "203.0.113.9"]  # and one no route covers
    for device in lab.inv.device_names():
        assert rr.show_ip_route(lab, device) == _ref_table(lab, device), device
        for ip in targets:
            text = rr.show_ip_route_entry(lab, device, ip)
            want = _ref_entry_route(lab, device, ip)
            if want is None:
                assert text == "% Network not in table\n"
            else:
                assert text.startswith(f"Routing entry for {want.network}/{want.prefixlen}\n"), (device, ip)
            checked += 1
        bgp = lab.configs[device].bgp
        if bgp is not None:
            shown = [ln.split()[0] for ln in rr.show_ip_bgp_summary(lab, device).splitlines()[12:]]
            configured = [ip for ip, n in bgp.neighbors.items() if n.remote_as is not None]
            assert shown == sorted(configured, key=ipaddress.IPv4Address)
    return checked


@pytest.mark.parametrize(
    "faults",
    [
        [],
        [
            FaultSpec(type=slug)
            for slug in ("bgp_neighbor_shutdown", "link_failure", "route_missing", "bgp_asn_mismatch")
        ],
    ],
)
def test_routing_views_render_as_with_ipaddress(faults: list[FaultSpec]) -> None:
    lab = SimLab.build("medium", seed=42)
    ctl = SimControl(lab)
    ctl.inject_all(faults, seed=3)
    lab.advance(30)
    assert _check(lab) > 100
    assert "is variably subnetted" in run_command(lab, "site1-leaf1", "show ip route").text


def test_one_mask_majors_and_lone_routes_render_as_with_ipaddress(monkeypatch: pytest.MonkeyPatch) -> None:
    """Majors the fabric lacks: subnets of one mask (`is subnetted`), a lone classful route."""
    lab = SimLab.build("small", seed=42)
    device = lab.inv.device_names()[0]
    extra = [
        Route("S", "172.16.1.0", 24, "10.0.0.1", "", 1, 0),
        Route("S", "172.16.9.0", 24, "10.0.0.1", "", 1, 0),
        Route("S", "192.0.2.0", 24, "10.0.0.1", "", 1, 0),
        Route("S", "11.0.0.0", 8, "10.0.0.1", "", 1, 0),
    ]
    routes = [*lab.routing.routes(device), *extra]
    monkeypatch.setattr(type(lab.routing), "routes", lambda self, dev: list(routes))
    text = rr.show_ip_route(lab, device)
    assert text == _ref_table(lab, device)
    assert "172.16.0.0/24 is subnetted, 2 subnets" in text and "S     11.0.0.0/8 [1/0]" in text
    for ip in ("172.16.9.200", "11.2.3.4", "192.0.2.1"):
        want = _ref_entry_route(lab, device, ip)
        assert want is not None
        assert rr.show_ip_route_entry(lab, device, ip).startswith(f"Routing entry for {want.network}/")


def test_a_route_with_host_bits_still_goes_to_ipaddress(monkeypatch: pytest.MonkeyPatch) -> None:
    """What `ipaddress.IPv4Network` refuses (host bits set) it still refuses."""
    lab = SimLab.build("small", seed=42)
    device = lab.inv.device_names()[0]
    odd = Route("S", "10.9.9.9", 24, "10.0.0.1", "", 1, 0)
    routes = [*lab.routing.routes(device), odd]
    monkeypatch.setattr(type(lab.routing), "routes", lambda self, dev: list(routes))
    with pytest.raises(ValueError, match="host bits"):
        rr.show_ip_route_entry(lab, device, "10.9.9.1")
