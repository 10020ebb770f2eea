"""Typed tool parameters: nothing reaches a device command unless it passes these.

Interface names, addresses, AS numbers and bounded integers are validated by
pattern or range, never by escaping, so text from an incident, a log line or a
runbook cannot smuggle `; reload`, a newline or a `| ...` pipe into a command.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

_IFNAME = re.compile(
    r"^((GigabitEthernet|TenGigabitEthernet|FastEthernet|Ethernet|Loopback|Vlan|Port-channel|"
    r"eth|veth|dummy)[0-9]+(/[0-9]+){0,2}(\.[0-9]+)?|lo[0-9]*)$"
)
_PROCESS = re.compile(r"^[A-Za-z][A-Za-z0-9 _/-]{0,31}$")
_SECTION = re.compile(
    r"^(interface \S+|router bgp \d+|router ospf \d+|ip route|"
    r"ip access-list extended [A-Za-z0-9_-]+|access-list [A-Za-z0-9_-]+)$"
)


def is_interface_name(v: str) -> bool:
    """The name passes the interface parameters' check (a tool call with it is valid)."""
    return _IFNAME.fullmatch(v) is not None


def _ifname(v: str) -> str:
    if not _IFNAME.fullmatch(v):
        raise ValueError(f"not an interface name: {v!r} (expected e.g. GigabitEthernet0/1, Vlan100, eth1)")
    return v


def _ipv4(v: str) -> str:
    try:
        return str(ipaddress.IPv4Address(v))
    except ValueError:
        raise ValueError(f"not an IPv4 address: {v!r}") from None


def _process(v: str) -> str:
    if not _PROCESS.fullmatch(v):
        raise ValueError(f"not a process name: {v!r} (letters, digits, space, _ / - only)")
    return v


def _section(v: str) -> str:
    if _SECTION.fullmatch(v):
        inner = v.split()[-1]
        if v.startswith("interface "):
            _ifname(inner)
        return v
    raise ValueError(
        f"not a config section: {v!r} (one of 'interface NAME', 'router bgp N', "
        "'router ospf N', 'ip route', 'ip access-list extended NAME', 'access-list NAME')"
    )


InterfaceName = Annotated[str, AfterValidator(_ifname)]
IPv4 = Annotated[str, AfterValidator(_ipv4)]
ProcessName = Annotated[str, AfterValidator(_process)]
Section = Annotated[str, AfterValidator(_section)]
Asn = Annotated[int, Field(ge=1, le=4294967295)]


class Params(BaseModel):
    # defer_build: each model builds its validator on first use, not at import
    model_config = ConfigDict(extra="forbid", strict=False, defer_build=True)


class NoParams(Params):
    pass


class InterfaceParam(Params):
    interface: InterfaceName


class OptionalInterface(Params):
    interface: InterfaceName | None = None


class PeerParam(Params):
    peer: IPv4


class PingParams(Params):
    destination: IPv4
    size: int = Field(100, ge=36, le=18024)
    count: int = Field(5, ge=1, le=100)
    df: bool = False


class TraceParams(Params):
    destination: IPv4


class RouteParams(Params):
    prefix: IPv4 | None = None


class AclParams(Params):
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")] | None = None


class RunningParams(Params):
    section: Section | None = None


class MtuParams(Params):
    interface: InterfaceName
    mtu: int = Field(ge=576, le=9216)


class DuplexParams(Params):
    interface: InterfaceName
    duplex: Literal["full", "half", "auto"]


class CostParams(Params):
    interface: InterfaceName
    cost: int = Field(ge=1, le=65535)


class MaxPrefixParams(Params):
    peer: IPv4
    limit: int = Field(ge=1, le=4294967295)


class ProcessParams(Params):
    process: ProcessName


class SectionParams(Params):
    section: Section


class RollbackParams(Params):
    """Return the device to a configuration captured earlier (the pre-change snapshot)."""

    snapshot: Annotated[str, Field(min_length=1, max_length=2_000_000)]
