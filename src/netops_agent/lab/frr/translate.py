"""Translate device configuration lines into what FRR and the Linux kernel can do.

The agent speaks IOS-style configuration. FRR applies most of it natively
(`shutdown`, `neighbor ... remote-as`, `ip ospf hello-interval`, `ip route`). A few
lines a real router accepts have no FRR command, because on Linux the kernel owns
them:

- `mtu N` under an interface -> `ip link set dev X mtu N`;
- `ip access-group NAME in|out` -> nftables rules built from the FRR `access-list NAME`
  entries (deny/permit by destination prefix, first match, implicit deny at the end);
- `no ip access-list standard|extended NAME` -> `no access-list NAME`;
- `ip address A.B.C.D M.M.M.M` -> `ip address A.B.C.D/len`.

The same module puts those kernel-held settings back into `show running-config`, so
the running config reads like a device's and diffs cleanly against the golden one.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

from netops_agent.errors import LabError
from netops_agent.lab.frr.system import valid_acl_name, valid_ifname, valid_prefix

NFT_TABLE = "nops_acl"
DEFAULT_MTU = 1500
_SKIP = {"end", "write", "write memory", "copy running-config startup-config", "configure terminal"}
_TOP_LEVEL = (
    "router ", "ip route ", "no ip route ", "access-list ", "no access-list ", "ip prefix-list ",
    "no ip prefix-list ", "route-map ", "no route-map ", "hostname ", "ip access-list ",
    "no ip access-list ", "ipv6 ", "no ipv6 ", "log ", "no log ", "ip forwarding", "line ",
)  # fmt: skip
_REMOTE_AS = re.compile(r"^neighbor (\S+) remote-as \S+$")
_ACL_LINE = re.compile(
    r"^access-list (\S+) seq (\d+) (deny|permit) (any|\d+\.\d+\.\d+\.\d+/\d+)(?: exact-match)?$"
)


@dataclass(frozen=True)
class KernelAction:
    """A configuration effect the lab applies to the kernel instead of FRR."""

    kind: str  # "mtu" | "acl_bind" | "acl_unbind"
    interface: str
    mtu: int = 0
    acl: str = ""
    direction: str = "in"


@dataclass
class Translation:
    vtysh_lines: list[str] = field(default_factory=list)
    kernel: list[KernelAction] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    touches_acl: bool = False


@dataclass(frozen=True)
class AclEntry:
    seq: int
    action: str  # deny | permit
    prefix: str  # a.b.c.d/len or "any"


def translate(lines: list[str]) -> Translation:
    """Split configuration lines into vtysh lines and kernel actions (errors collected)."""
    out = Translation()
    iface: str | None = None
    depth = 0  # config sub-node depth, so a stray top-level `exit` is not sent
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if any(ord(ch) < 32 for ch in raw.rstrip("\n")) or "\n" in raw.rstrip("\n"):
            out.errors.append(f"line {number}: control characters are not allowed: {raw!r}")
            continue
        if not line or line.startswith(("!", "frr version", "frr defaults", "no frr ")) or line in _SKIP:
            continue
        if line.startswith("interface "):
            iface = line.split(maxsplit=1)[1]
            depth = 1
            out.vtysh_lines.append(line)
            continue
        if line in ("exit", "exit-address-family"):
            if depth == 0:
                continue
            depth -= 1
            if depth == 0:
                iface = None
            out.vtysh_lines.append(line)
            continue
        if line.startswith(_TOP_LEVEL) and not raw.startswith(" "):
            iface = None
            depth = 1 if line.startswith(("router ", "route-map ")) else 0
        elif line.startswith("address-family "):
            depth = 2
        try:
            if iface is not None and _interface_line(out, iface, line, number):
                continue
            _global_line(out, line, number)
        except LabError as exc:
            out.errors.append(f"line {number}: {exc}")
    out.vtysh_lines = _drop_replaced_remote_as(out.vtysh_lines)
    return out


def _drop_replaced_remote_as(lines: list[str]) -> list[str]:
    """Drop `no neighbor X remote-as A` when the batch also sets `neighbor X remote-as B`.

    Diff tools emit the pair to change a peer's AS; in FRR (as on IOS) the `no` form
    deletes the whole neighbor with its description and timers, while setting the
    new AS alone changes it in place, which is what the pair means.
    """
    replaced = {m.group(1) for line in lines if (m := _REMOTE_AS.match(line))}
    return [
        line
        for line in lines
        if not (line.startswith("no ") and (m := _REMOTE_AS.match(line[3:])) and m.group(1) in replaced)
    ]


def _interface_line(out: Translation, iface: str, line: str, number: int) -> bool:
    """Handle kernel-held interface settings; True when the line was consumed."""
    words = line.split()
    if words[0] == "mtu" or words[:2] == ["no", "mtu"]:
        value = DEFAULT_MTU if words[0] == "no" else _int(words[1:2], 68, 9216)
        if value is None:
            out.errors.append(f"line {number}: expected `mtu <68-9216>`: {line!r}")
        else:
            out.kernel.append(KernelAction("mtu", _ifname(iface), mtu=value))
        return True
    if words[:2] == ["ip", "access-group"] or words[:3] == ["no", "ip", "access-group"]:
        _access_group(out, iface, words, number, line)
        return True
    if words[0] in ("duplex", "speed") or words[:2] in (["no", "duplex"], ["no", "speed"]):
        out.errors.append(
            f"line {number}: {words[0] if words[0] != 'no' else words[1]} is not configurable "
            "on the FRR lab's veth links"
        )
        return True
    if words[:2] == ["ip", "address"] or words[:3] == ["no", "ip", "address"]:
        out.vtysh_lines.append(_cidr_address(line))
        return True
    return False


def _access_group(out: Translation, iface: str, words: list[str], number: int, line: str) -> None:
    negate = words[0] == "no"
    args = words[3:] if negate else words[2:]
    direction = args[-1] if args and args[-1] in ("in", "out") else ""
    name = args[0] if len(args) == 2 else ""
    if not direction or (not negate and not name):
        out.errors.append(f"line {number}: expected `[no] ip access-group NAME in|out`: {line!r}")
        return
    out.touches_acl = True
    kind = "acl_unbind" if negate else "acl_bind"
    out.kernel.append(
        KernelAction(kind, _ifname(iface), acl=valid_acl_name(name) if name else "", direction=direction)
    )


def _global_line(out: Translation, line: str, number: int) -> None:
    words = line.split()
    if words[:3] == ["no", "ip", "access-list"] and len(words) == 5:
        out.vtysh_lines.append(f"no access-list {valid_acl_name(words[4])}")
        out.touches_acl = True
        return
    if words[:2] == ["ip", "access-list"]:
        out.errors.append(
            f"line {number}: IOS named access-lists are not supported on FRR; use "
            "`access-list NAME seq N deny|permit PREFIX|any`"
        )
        return
    if words[0] == "access-list" or words[:2] == ["no", "access-list"]:
        out.touches_acl = True
    out.vtysh_lines.append(line)


def _ifname(name: str) -> str:
    return valid_ifname(name)


def _int(words: list[str], low: int, high: int) -> int | None:
    if len(words) != 1 or not words[0].isdigit():
        return None
    value = int(words[0])
    return value if low <= value <= high else None


def _cidr_address(line: str) -> str:
    """`ip address 10.0.0.1 255.255.255.254` -> `ip address 10.0.0.1/31` (FRR syntax)."""
    words = line.split()
    addr_at = 3 if words[0] == "no" else 2
    if len(words) == addr_at + 2:
        try:
            length = ipaddress.IPv4Network(f"0.0.0.0/{words[addr_at + 1]}").prefixlen
        except ValueError:
            return line
        return " ".join([*words[:addr_at], f"{words[addr_at]}/{length}"])
    return line


# --- access lists -> nftables ------------------------------------------------------


def parse_access_lists(running_config: str) -> dict[str, list[AclEntry]]:
    """FRR `access-list` entries from a running config, by name, in sequence order."""
    acls: dict[str, list[AclEntry]] = {}
    for line in running_config.splitlines():
        m = _ACL_LINE.match(line.strip())
        if m:
            name, seq, action, prefix = m.groups()
            acls.setdefault(name, []).append(AclEntry(int(seq), action, prefix))
    return {name: sorted(entries, key=lambda e: e.seq) for name, entries in acls.items()}


def render_nft(bindings: dict[str, dict[str, str]], acls: dict[str, list[AclEntry]]) -> str:
    """An nft script that replaces the lab's ACL table with the bound ACLs (or removes it).

    An access-group naming an ACL that does not exist filters nothing, as on IOS.
    """
    chains: dict[str, list[str]] = {"input": [], "forward": [], "output": []}
    for ifname in sorted(bindings):
        for direction, name in sorted(bindings[ifname].items()):
            if name not in acls:
                continue
            match = f'{"iifname" if direction == "in" else "oifname"} "{valid_ifname(ifname)}"'
            rules = _acl_rules(match, name, acls[name])
            for chain in ("input", "forward") if direction == "in" else ("forward", "output"):
                chains[chain] += rules
    script = [f"table inet {NFT_TABLE}", f"delete table inet {NFT_TABLE}"]
    if any(chains.values()):
        script.append(f"table inet {NFT_TABLE} {{")
        for chain, rules in chains.items():
            script.append(f"  chain {chain} {{")
            script.append(f"    type filter hook {chain} priority 0; policy accept;")
            script += [f"    {rule}" for rule in rules]
            script.append("  }")
        script.append("}")
    return "\n".join(script) + "\n"


def _acl_rules(match: str, name: str, entries: list[AclEntry]) -> list[str]:
    rules = []
    for e in entries:
        verdict = "drop" if e.action == "deny" else "accept"
        where = "meta nfproto ipv4" if e.prefix == "any" else f"ip daddr {valid_prefix(e.prefix)}"
        rules.append(f'{match} {where} counter {verdict} comment "{name} seq {e.seq}"')
    rules.append(f'{match} meta nfproto ipv4 counter drop comment "{name} implicit deny"')
    return rules


# --- running config: put the kernel-held lines back ---------------------------------


def augment_running_config(text: str, mtus: dict[str, int], bindings: dict[str, dict[str, str]]) -> str:
    """Insert ` mtu N` and ` ip access-group NAME dir` into each interface block."""
    extra: dict[str, list[str]] = {}
    for ifname, mtu in mtus.items():
        extra.setdefault(ifname, []).append(f" mtu {mtu}")
    for ifname, dirs in bindings.items():
        for direction, name in sorted(dirs.items()):
            extra.setdefault(ifname, []).append(f" ip access-group {name} {direction}")
    out: list[str] = []
    current: str | None = None
    for line in text.splitlines():
        if line.startswith("interface "):
            current = line.split(maxsplit=1)[1]
        elif line == "exit" and current is not None:
            out += extra.pop(current, [])
            current = None
        elif line == "end" and extra:
            for ifname in sorted(extra):
                out += [f"interface {ifname}", *extra[ifname], "exit", "!"]
            extra = {}
        out.append(line)
    return "\n".join(out) + ("\n" if text.endswith("\n") else "")
