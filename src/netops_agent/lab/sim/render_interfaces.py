"""IOS interface views of the twin: show interfaces, status, ip interface brief, transceiver.

Status words come from derived state, counters from the lab's monotonic counter
array and rates from the current `Rates`, so two reads tell the same story a real
router would: errors that keep climbing, drops under congestion, no light on a cut
fibre.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from netops_agent.lab.sim.render_common import (
    device_events,
    if_sort_key,
    is_physical,
    mac_of,
    short_ifname,
    split_ifname,
    stable,
)
from netops_agent.lab.sim.state import IfState, key
from netops_agent.lab.sim.telemetry import C

if TYPE_CHECKING:
    from netops_agent.lab.sim.lab import SimLab

NORMAL_RX_DBM = -2.5
NO_LIGHT_DBM = -40.0
RX_WARN_DBM = -12.0
RX_ALARM_DBM = -20.0


def _state(lab: SimLab, device: str, name: str) -> IfState:
    st = lab.derived.iface.get((device, name))
    return st if st is not None else IfState(admin_up=True, oper_up=False)


def status_words(st: IfState) -> tuple[str, str]:
    """(link status, line protocol) as the first line of show interfaces prints them."""
    if not st.admin_up:
        return "administratively down", "down"
    if st.err_disabled:
        return "down", "down (err-disabled)"
    return ("up", "up") if st.oper_up else ("down", "down")


def _names(lab: SimLab, device: str, ifname: str | None) -> list[str]:
    if ifname:
        return [ifname]
    return sorted(lab.configs[device].interfaces, key=if_sort_key)


def _counters(lab: SimLab, device: str, name: str) -> dict[str, int]:
    p = lab.idx.pos.get((device, name))
    if p is None:
        return dict.fromkeys(C, 0)
    row = lab.counters[p]
    return {c: int(row[i]) for c, i in C.items()}


def _rates(lab: SimLab, device: str, name: str) -> dict[str, float]:
    p = lab.idx.pos.get((device, name))
    r = lab.rates
    if p is None:
        return {
            "in_bps": 0.0,
            "out_bps": 0.0,
            "in_pps": 0.0,
            "out_pps": 0.0,
            "in_util": 0.0,
            "out_util": 0.0,
            "loss": 0.0,
            "errors": 0.0,
        }
    per_s = r.per_s[p]
    return {
        "in_bps": float(per_s[C["in_octets"]]) * 8,
        "out_bps": float(per_s[C["out_octets"]]) * 8,
        "in_pps": float(per_s[C["in_packets"]]),
        "out_pps": float(per_s[C["out_packets"]]),
        "in_util": float(r.in_util[p]),
        "out_util": float(r.out_util[p]),
        "loss": float(r.loss[p]),
        "errors": float(per_s[C["in_crc"]] + per_s[C["late_collisions"]]),
    }


def _resets(lab: SimLab, device: str, name: str) -> int:
    """Interface resets: one at boot plus one per logged state change of the port."""
    needle = f"Interface {name},"
    return 1 + sum(1 for e in device_events(lab, device) if e.facility == "LINK" and needle in e.message)


def _bits(value: float) -> int:
    """IOS shows rates rounded to a thousand bits once they exceed a thousand."""
    return int(round(value / 1000.0) * 1000) if value >= 1000 else round(value)


def _load(util: float) -> int:
    return max(1, min(255, round(util * 255)))


# --- show interfaces --------------------------------------------------------------------


def show_interfaces(lab: SimLab, device: str, ifname: str | None = None) -> str:
    return "".join(_interface_block(lab, device, n) for n in _names(lab, device, ifname))


def _hardware(device: str, name: str) -> tuple[str, str, str, str]:
    """(hardware line, MTU/BW/DLY line, encapsulation, media) per interface type."""
    kind = split_ifname(name)[0]
    mac = mac_of(device, name)
    if kind == "Loopback":
        return "Hardware is Loopback", "BW 8000000 Kbit/sec, DLY 5000 usec", "LOOPBACK", ""
    if kind == "Vlan":
        hw = f"Hardware is EtherSVI, address is {mac} (bia {mac})"
        return hw, "BW 1000000 Kbit/sec, DLY 10 usec", "ARPA", ""
    hw = f"Hardware is iGbE, address is {mac} (bia {mac})"
    return hw, "BW 1000000 Kbit/sec, DLY 10 usec", "ARPA", "RJ45"


def _duplex_line(lab: SimLab, device: str, name: str, oper_up: bool) -> str:
    configured = lab.configs[device].interfaces[name].duplex
    if oper_up:
        eff = lab.derived.duplex.get((device, name), "full" if configured == "auto" else configured)
        return f"  {eff.capitalize()}-duplex, 1000Mb/s, media type is RJ45"
    word = "Auto" if configured == "auto" else configured.capitalize()
    return f"  {word}-duplex, Auto-speed, media type is RJ45"


def _interface_block(lab: SimLab, device: str, name: str) -> str:
    cfg = lab.configs[device].interfaces[name]
    st = _state(lab, device, name)
    link, proto = status_words(st)
    hw, bw_dly, encap, media = _hardware(device, name)
    c, r = _counters(lab, device, name), _rates(lab, device, name)
    reliability = 255 if r["errors"] <= 0 else max(1, round(255 * (1 - min(r["loss"], 1.0))))
    late = c["late_collisions"]
    last = "00:00:00" if st.oper_up else "never"
    out = [f"{name} is {link}, line protocol is {proto}", f"  {hw}"]
    if cfg.description:
        out.append(f"  Description: {cfg.description}")
    if cfg.ip:
        out.append(f"  Internet address is {cfg.ip}/{cfg.prefixlen}")
    out += [
        f"  MTU {cfg.mtu} bytes, {bw_dly},",
        f"     reliability {reliability}/255, txload {_load(r['out_util'])}/255, "
        f"rxload {_load(r['in_util'])}/255",
        f"  Encapsulation {encap}, loopback not set",
        "  Keepalive set (10 sec)",
    ]
    if media:
        out += [
            _duplex_line(lab, device, name, st.oper_up),
            "  output flow-control is unsupported, input flow-control is unsupported",
        ]
    if encap == "ARPA":
        out.append("  ARP type: ARPA, ARP Timeout 04:00:00")
    out += [
        f"  Last input {last}, output {last}, output hang never",
        '  Last clearing of "show interface" counters never',
        f"  Input queue: 0/375/{c['in_discards']}/0 (size/max/drops/flushes); "
        f"Total output drops: {c['out_discards']}",
        "  Queueing strategy: fifo",
        f"  Output queue: {40 if r['out_util'] >= 1.0 else 0}/40 (size/max)",
        f"  5 minute input rate {_bits(r['in_bps'])} bits/sec, {round(r['in_pps'])} packets/sec",
        f"  5 minute output rate {_bits(r['out_bps'])} bits/sec, {round(r['out_pps'])} packets/sec",
        f"     {c['in_packets']} packets input, {c['in_octets']} bytes, 0 no buffer",
        f"     Received {c['in_packets'] // 5000} broadcasts (0 IP multicasts)",
        "     0 runts, 0 giants, 0 throttles",
        f"     {c['in_errors']} input errors, {c['in_crc']} CRC, 0 frame, 0 overrun, 0 ignored",
        "     0 watchdog, 0 multicast, 0 pause input",
        f"     {c['out_packets']} packets output, {c['out_octets']} bytes, 0 underruns",
        f"     {late} output errors, {late} collisions, {_resets(lab, device, name)} interface resets",
        "     0 unknown protocol drops",
        f"     0 babbles, {late} late collision, 0 deferred",
        "     0 lost carrier, 0 no carrier, 0 pause output",
        "     0 output buffer failures, 0 output buffers swapped out",
    ]
    return "\n".join(out) + "\n"


# --- show interfaces status ---------------------------------------------------------------


def show_interfaces_status(lab: SimLab, device: str, ifname: str | None = None) -> str:
    names = [n for n in _names(lab, device, ifname) if is_physical(n)]
    out = ["", "Port      Name               Status       Vlan       Duplex  Speed Type"]
    for name in names:
        cfg = lab.configs[device].interfaces[name]
        st = _state(lab, device, name)
        if st.err_disabled:
            status = "err-disabled"
        elif not st.admin_up:
            status = "disabled"
        else:
            status = "connected" if st.oper_up else "notconnect"
        if st.oper_up:
            eff = lab.derived.duplex.get((device, name), "full")
            duplex = f"a-{eff}" if cfg.duplex == "auto" else cfg.duplex
            speed = "a-1000"
        else:
            duplex, speed = cfg.duplex, "auto"
        vlan = "routed" if cfg.ip else "1"
        out.append(
            f"{short_ifname(name):<9} {cfg.description[:18]:<18} {status:<12} {vlan:<10} "
            f"{duplex:>6} {speed:>6} 10/100/1000BaseTX"
        )
    return "\n".join(out) + "\n"


# --- show ip interface brief --------------------------------------------------------------


def show_ip_interface_brief(lab: SimLab, device: str) -> str:
    out = ["Interface              IP-Address      OK? Method Status                Protocol"]
    for name in _names(lab, device, None):
        cfg = lab.configs[device].interfaces[name]
        link, proto = status_words(_state(lab, device, name))
        proto = proto.split()[0]
        ip, method = (cfg.ip, "NVRAM") if cfg.ip else ("unassigned", "unset")
        out.append(f"{name:<22} {ip:<15} YES {method:<6} {link:<21} {proto}")
    return "\n".join(out) + "\n"


# --- show interfaces description ----------------------------------------------------------


def show_interfaces_description(lab: SimLab, device: str, ifname: str | None = None) -> str:
    out = ["Interface                      Status         Protocol Description"]
    for name in _names(lab, device, ifname):
        link, proto = status_words(_state(lab, device, name))
        link = "admin down" if link.startswith("admin") else link
        desc = lab.configs[device].interfaces[name].description
        out.append(f"{short_ifname(name):<30} {link:<14} {proto.split()[0]:<8} {desc}".rstrip())
    return "\n".join(out) + "\n"


# --- show interfaces transceiver ------------------------------------------------------------


def rx_power(lab: SimLab, device: str, name: str) -> float:
    """Received optical power: no light when the cable is cut or the far laser is off."""
    link = lab.inv.link_of(device, name)
    if link is not None:
        peer_dev, peer_if = link.peer_of(device)
        peer = _state(lab, peer_dev, peer_if)
        dark = (
            link.id in lab.cond.cut_links
            or peer_dev in lab.cond.down_devices
            or not peer.admin_up
            or peer.err_disabled
        )
        if dark:
            return NO_LIGHT_DBM
    degraded = lab.cond.optic_rx_dbm.get(key(device, name))
    if degraded is not None:
        return float(degraded)
    return NORMAL_RX_DBM + ((stable(device, name, "rx") % 7) - 3) / 10


def _flag(rx: float) -> str:
    if rx <= RX_ALARM_DBM:
        return " --"
    return " -" if rx <= RX_WARN_DBM else ""


def show_interfaces_transceiver(lab: SimLab, device: str, ifname: str | None = None) -> str:
    names = [n for n in _names(lab, device, ifname) if is_physical(n)]
    if not names:
        return ""
    out = [
        "If device is externally calibrated, only calibrated values are printed.",
        "++ : high alarm, +  : high warning, -  : low warning, -- : low alarm.",
        "NA or N/A: not applicable, Tx: transmit, Rx: receive.",
        "mA: milliamperes, dBm: decibels (milli-watts).",
        "",
        "                                             Optical   Optical",
        "           Temperature  Voltage  Current     Tx Power  Rx Power",
        "Port       (Celsius)    (Volts)  (mA)        (dBm)     (dBm)",
        "---------  -----------  -------  --------    --------  --------",
    ]
    for name in names:
        n = stable(device, name, "optic")
        st = _state(lab, device, name)
        temp = 28 + (n % 90) / 10
        volts = 3.25 + ((n >> 8) % 8) / 100
        tx = NO_LIGHT_DBM if not st.admin_up or st.err_disabled else -2.0 - ((n >> 12) % 8) / 10
        current = 0.0 if tx == NO_LIGHT_DBM else 5.5 + ((n >> 16) % 15) / 10
        rx = rx_power(lab, device, name)
        out.append(
            f"{short_ifname(name):<10} {temp:>7.1f}      {volts:>5.2f}   {current:>6.1f}"
            f"      {tx:>6.1f}    {rx:>6.1f}{_flag(rx)}"
        )
    return "\n".join(out) + "\n"
