"""The twin's IOS exec CLI: parse a command line (with abbreviations) and render its output.

A small keyword tree stands in for the IOS parser: every keyword may be abbreviated
to a unique prefix (`sh ip int br`), arguments are typed (IPv4 address, interface,
number, word) and anything else is answered with the IOS caret error. Output
filters (`| include`, `| exclude`, `| begin`, `| section`) work on any command. The
renderers live in `render_*.py`; this module only dispatches.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from netops_agent.lab.base import CommandOutput
from netops_agent.lab.sim import render_interfaces as ifr
from netops_agent.lab.sim import render_probes as probes
from netops_agent.lab.sim import render_routing as rtr
from netops_agent.lab.sim import render_system as sysr
from netops_agent.lab.sim.render_common import CliError, CliMessage, resolve_interface

if TYPE_CHECKING:
    from netops_agent.lab.sim.lab import SimLab

INVALID = "% Invalid input detected at '^' marker."
Handler = Callable[..., str]


@dataclass
class _Node:
    keywords: dict[str, _Node] = field(default_factory=dict)
    arg: tuple[str, _Node] | None = None  # (kind, next node)
    handler: Handler | None = None


def _terminal(lab: SimLab, device: str, value: int) -> str:
    return ""  # paging and width do not apply to the twin's output


def _build() -> _Node:
    root = _Node()
    grammar: list[tuple[str, Handler]] = [
        ("show interfaces", ifr.show_interfaces),
        ("show interfaces <if>", ifr.show_interfaces),
        ("show interfaces status", ifr.show_interfaces_status),
        ("show interfaces <if> status", ifr.show_interfaces_status),
        ("show interfaces transceiver", ifr.show_interfaces_transceiver),
        ("show interfaces <if> transceiver", ifr.show_interfaces_transceiver),
        ("show interfaces description", ifr.show_interfaces_description),
        ("show interfaces <if> description", ifr.show_interfaces_description),
        ("show ip interface brief", ifr.show_ip_interface_brief),
        ("show ip bgp summary", rtr.show_ip_bgp_summary),
        ("show ip ospf neighbor", rtr.show_ip_ospf_neighbor),
        ("show ip route", rtr.show_ip_route),
        ("show ip route <ip>", rtr.show_ip_route_entry),
        ("show ip route connected", rtr.show_ip_route_connected),
        ("show ip route static", rtr.show_ip_route_static),
        ("show ip route ospf", rtr.show_ip_route_ospf),
        ("show ip route bgp", rtr.show_ip_route_bgp),
        ("show logging", sysr.show_logging),
        ("show processes cpu", sysr.show_processes_cpu),
        ("show processes cpu sorted", sysr.show_processes_cpu_sorted),
        ("show memory statistics", sysr.show_memory_statistics),
        ("show access-lists", sysr.show_access_lists),
        ("show access-lists <word>", sysr.show_access_lists),
        ("show running-config", sysr.show_running_config),
        ("show running-config interface <if>", sysr.show_running_config_interface),
        ("show version", sysr.show_version),
        ("show clock", sysr.show_clock),
        ("terminal length <num>", _terminal),
        ("terminal width <num>", _terminal),
        ("ping <rest>", probes.ping),
        ("traceroute <rest>", probes.traceroute),
    ]
    for pattern, handler in grammar:
        node = root
        for word in pattern.split():
            if word.startswith("<"):
                if node.arg is None:
                    node.arg = (word, _Node())
                node = node.arg[1]
            else:
                node = node.keywords.setdefault(word, _Node())
        node.handler = handler
    return root


_ROOT = _build()


_WORD = re.compile(r"\S+")


def _tokens(line: str) -> list[tuple[str, int]]:
    return [(m.group(), m.start()) for m in _WORD.finditer(line)]


def _convert(kind: str, lab: SimLab, device: str, text: str) -> Any:
    if kind == "<ip>":
        try:
            return str(ipaddress.IPv4Address(text))
        except ValueError:
            return None
    if kind == "<if>":
        return resolve_interface(lab, device, text)
    if kind == "<word>":
        return text
    if kind == "<num>":
        return int(text) if text.isdigit() and int(text) <= 512 else None
    return None


def _dispatch(lab: SimLab, device: str, line: str) -> str:
    toks = _tokens(line)
    if not toks:
        return ""
    node, args, i = _ROOT, [], 0
    while i < len(toks):
        word, pos = toks[i]
        if node.arg is not None and node.arg[0] == "<rest>":
            args.append(toks[i:])
            node = node.arg[1]
            break
        low = word.lower()
        exact = node.keywords.get(low)
        matches = [] if exact is not None else [k for k in node.keywords if k.startswith(low)]
        if exact is not None:
            node = exact
        elif len(matches) == 1:
            node = node.keywords[matches[0]]
        elif len(matches) > 1:
            raise CliMessage(f'% Ambiguous command:  "{line.strip()}"')
        elif node.arg is not None:
            kind, nxt = node.arg
            # 'GigabitEthernet 0/1' is one interface argument written as two words
            split = i + 1 < len(toks) and toks[i + 1][0][0].isdigit()
            if kind == "<if>" and word.isalpha() and split:
                word = word + toks[i + 1][0]
                i += 1
            value = _convert(kind, lab, device, word)
            if value is None:
                raise CliError(pos)
            args.append(value)
            node = nxt
        else:
            raise CliError(pos)
        i += 1
    else:
        if node.handler is None and node.arg is not None and node.arg[0] == "<rest>":
            args.append([])
            node = node.arg[1]
    if node.handler is None:
        raise CliMessage("% Incomplete command.")
    return node.handler(lab, device, *args)


# --- output filters -----------------------------------------------------------------------


def _filter(text: str, pipe: str, offset: int) -> str:
    toks = _tokens(pipe)
    if len(toks) < 2:
        raise CliError(offset + (toks[0][1] if toks else len(pipe)))
    word, pos = toks[0]
    pattern = pipe[toks[1][1] :].strip()
    try:
        rx = re.compile(pattern)
    except re.error:
        raise CliError(offset + toks[1][1]) from None
    kinds = [k for k in ("include", "exclude", "begin", "section") if k.startswith(word.lower())]
    if len(kinds) != 1:
        raise CliError(offset + pos)
    lines = text.splitlines()
    if kinds[0] == "include":
        kept = [ln for ln in lines if rx.search(ln)]
    elif kinds[0] == "exclude":
        kept = [ln for ln in lines if not rx.search(ln)]
    elif kinds[0] == "begin":
        start = next((n for n, ln in enumerate(lines) if rx.search(ln)), len(lines))
        kept = lines[start:]
    else:
        kept = section(lines, rx)
    return "\n".join(kept) + ("\n" if kept else "")


def section(lines: list[str], rx: re.Pattern[str]) -> list[str]:
    """IOS `| section`: whole sections whose header matches, else header + matching children."""
    out: list[str] = []
    blocks: list[list[str]] = []
    for ln in lines:
        if ln.startswith(" ") and blocks:
            blocks[-1].append(ln)
        else:
            blocks.append([ln])
    for header, *children in blocks:
        if rx.search(header):
            out += [header, *children]
        else:
            hits = [c for c in children if rx.search(c)]
            if hits:
                out += [header, *hits]
    return out


# --- entry point ---------------------------------------------------------------------------


def run_command(lab: SimLab, device: str, command: str) -> CommandOutput:
    """Render one exec command on a device of the twin; bad input never raises."""
    prompt = f"{lab.configs[device].hostname}#"
    line, bar, pipe = command.partition("|")
    try:
        text = _dispatch(lab, device, line)
        if bar:
            text = _filter(text, pipe, len(line) + 1)
    except CliError as exc:
        text = f"{' ' * (len(prompt) + exc.pos)}^\n{exc.message}\n"
        return CommandOutput(ok=False, text=text, error=exc.message)
    except CliMessage as exc:
        return CommandOutput(ok=False, text=exc.text + "\n", error=exc.text)
    return CommandOutput(ok=True, text=text)
