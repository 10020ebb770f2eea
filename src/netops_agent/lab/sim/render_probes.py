"""IOS ping and traceroute on the twin, driven by `Routing.path` and `Routing.ping`.

Options are validated like IOS does (`size 36-18024`, `repeat`, `timeout`, `df-bit`,
`source`); a bad value gets the caret error at that word. Fragmentation-needed
results print as timeouts ('.') because ntc-templates' ping template does not accept
the 'M' code; the success rate still tells the agent the large packets died.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import TYPE_CHECKING

from netops_agent.lab.sim.render_common import CliError, CliMessage, resolve_interface

if TYPE_CHECKING:
    from netops_agent.lab.sim.lab import SimLab

Tokens = list[tuple[str, int]]
MAX_TTL = 30
STREAM_WIDTH = 70
LIMITS = {"size": (36, 18024), "repeat": (1, 100000), "timeout": (0, 3600)}


def _ip_arg(toks: Tokens, end: int) -> str:
    if not toks:
        raise CliError(end)
    address = _ipv4(toks[0][0])
    if address is None:
        raise CliMessage("% Unrecognized host or address, or protocol not running.")
    return address


@lru_cache(maxsize=4096)
def _ipv4(word: str) -> str | None:
    """The address as IPv4Address writes it, or None: a probe sweep pings the same few
    hundred addresses again and again."""
    try:
        return str(ipaddress.IPv4Address(word))
    except ValueError:
        return None


def _keyword(word: str, options: tuple[str, ...], pos: int) -> str:
    hits = [o for o in options if o.startswith(word.lower())]
    if word.lower() in options:
        return word.lower()
    if len(hits) != 1:
        raise CliError(pos)
    return hits[0]


def _ping_options(lab: SimLab, device: str, toks: Tokens, end: int) -> dict[str, object]:
    opts: dict[str, object] = {"size": 100, "repeat": 5, "timeout": 2, "df": False, "source": ""}
    i = 1
    while i < len(toks):
        word, pos = toks[i]
        kw = _keyword(word, ("size", "repeat", "timeout", "df-bit", "source"), pos)
        if kw == "df-bit":
            opts["df"] = True
            i += 1
            continue
        if i + 1 >= len(toks):
            raise CliError(end)
        value, vpos = toks[i + 1]
        if kw == "source":
            opts["source"] = _source_ip(lab, device, value, vpos)
        else:
            lo, hi = LIMITS[kw]
            if not value.isdigit() or not lo <= int(value) <= hi:
                raise CliError(vpos)
            opts[kw] = int(value)
        i += 2
    return opts


def _source_ip(lab: SimLab, device: str, value: str, pos: int) -> str:
    name = resolve_interface(lab, device, value)
    if name is not None:
        ip = lab.configs[device].interfaces[name].ip
        if ip:
            return ip
        raise CliError(pos)
    owned = {i.ip for i in lab.configs[device].interfaces.values() if i.ip}
    if value in owned:
        return value
    raise CliError(pos)


def _stream(code: str, sent: int, received: int) -> str:
    if code == "U":
        chars = ["U" if k % 2 == 0 else "." for k in range(sent)]
    elif code == "!":
        lost = sent - received
        chars = ["." if (k + 1) * lost // sent > k * lost // sent else "!" for k in range(sent)]
    else:  # '.' timeouts and 'M' (see the module docstring)
        chars = ["."] * sent
    text = "".join(chars)
    return "\n".join(text[k : k + STREAM_WIDTH] for k in range(0, len(text), STREAM_WIDTH))


def ping(lab: SimLab, device: str, toks: Tokens) -> str:
    end = len(" ".join(["ping", *(t for t, _ in toks)])) if toks else 5
    dst = _ip_arg(toks, end)
    opts = _ping_options(lab, device, toks, end)
    count, size = int(opts["repeat"]), int(opts["size"])  # type: ignore[call-overload]
    res = lab.routing.ping(
        device, dst, lab.idx, lab.rates, lab.rng, count=count, size=size, df=bool(opts["df"])
    )
    out = [
        "Type escape sequence to abort.",
        f"Sending {count}, {size}-byte ICMP Echos to {dst}, timeout is {opts['timeout']} seconds:",
    ]
    if opts["source"]:
        out.append(f"Packet sent with a source address of {opts['source']}")
    if opts["df"]:
        out.append("Packet sent with the DF bit set")
    received = int(res.received)
    out.append(_stream(res.code, count, received))
    rate = f"Success rate is {100 * received // count} percent ({received}/{count})"
    rtts = [float(x) for x in res.rtts_ms]
    if received and rtts:
        lo, hi = max(1, round(min(rtts))), max(1, round(max(rtts)))
        avg = max(1, round(sum(rtts) / len(rtts)))
        rate += f", round-trip min/avg/max = {lo}/{avg}/{hi} ms"
    out.append(rate)
    return "\n".join(out) + "\n"


# --- traceroute ----------------------------------------------------------------------------


def _probe_line(lab: SimLab, ttl: int, ip: str, loss: float, latency: float) -> str:
    probes = []
    for _ in range(3):
        if float(lab.rng.random()) < loss:
            probes.append("*")
        else:
            ms = max(1, round(latency + float(lab.rng.uniform(0, 1.5))))
            probes.append(f"{ms} msec")
    if all(p == "*" for p in probes):
        return f" {ttl:>2} * * *"
    return f" {ttl:>2} {ip} " + " ".join(probes)


def _svi_towards(lab: SimLab, device: str, dst: str) -> str | None:
    addr = ipaddress.IPv4Address(dst)
    for name, itf in lab.configs[device].interfaces.items():
        if itf.ip and addr in ipaddress.IPv4Interface(f"{itf.ip}/{itf.prefixlen}").network:
            return name
    return None


def traceroute(lab: SimLab, device: str, toks: Tokens) -> str:
    end = len(" ".join(["traceroute", *(t for t, _ in toks)])) if toks else 11
    dst = _ip_arg(toks, end)
    for word, pos in toks[1:]:
        _keyword(word, ("numeric",), pos)
    out = [
        "Type escape sequence to abort.",
        f"Tracing the route to {dst}",
        "VRF info: (vrf in name/id, vrf out name/id)",
    ]
    routing = lab.routing
    found = routing.path(device, dst)
    ttl, loss, latency = 1, 0.0, 0.0
    if found is not None:
        hops, target = found
        for n, h in enumerate(hops):
            for dev, ifname, direction in (
                (h.device, h.out_if, "out"),
                (h.next_device, h.next_in_if, "in"),
            ):
                if not routing._acl_permits(dev, ifname, direction, dst):
                    ip = lab.configs[dev].interfaces[ifname].ip or dst
                    out.append(f" {ttl:>2} {ip} !A  !A  !A")
                    return "\n".join(out) + "\n"
                p = lab.idx.pos.get((dev, ifname))
                if p is not None:
                    loss = 1 - (1 - loss) * (1 - float(lab.rates.loss[p]))
                    latency += float(lab.rates.latency_ms[p])
            last = n == len(hops) - 1
            ip = dst if last and routing.addr.get(dst, ("", ""))[0] == target else h.next_ip
            out.append(_probe_line(lab, ttl, ip, loss, 1.0 + 0.5 * ttl + latency))
            ttl += 1
        if dst not in routing.addr and (hops or target == device):  # a host behind an SVI
            svi = _svi_towards(lab, target, dst)
            if svi and not routing._acl_permits(target, svi, "out", dst):
                out.append(f" {ttl:>2} {lab.configs[target].interfaces[svi].ip} !A  !A  !A")
                return "\n".join(out) + "\n"
            out.append(_probe_line(lab, ttl, dst, loss, 1.5 + 0.5 * ttl + latency))
            return "\n".join(out) + "\n"
        if dst in routing.addr:
            if not hops:
                out.append(_probe_line(lab, 1, dst, 0.0, 1.0))
            return "\n".join(out) + "\n"
    out += [f" {t:>2} * * *" for t in range(ttl, MAX_TTL + 1)]
    return "\n".join(out) + "\n"
