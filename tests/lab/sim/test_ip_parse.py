"""The twin's address parser gives what `ipaddress` gives, and refuses what it refuses."""

from __future__ import annotations

import ipaddress

import pytest

from netops_agent.lab.sim.state import _ip_int


def _ipaddress(text: str) -> int | str:
    try:
        return int(ipaddress.IPv4Address(text))
    except ValueError as exc:
        return type(exc).__name__


@pytest.mark.parametrize(
    "text",
    [
        "0.0.0.0",
        "255.255.255.255",
        "10.0.0.1",
        "192.168.100.254",
        "1.2.3.4",
        "01.2.3.4",
        "1.2.3.04",
        "256.1.1.1",
        "1.2.3",
        "1.2.3.4.5",
        "1..2.3",
        " 1.2.3.4",
        "1.2.3.4 ",
        "+1.2.3.4",
        "\u0661.2.3.4",  # an Arabic-Indic digit one: not ASCII
        "1.2.3.4\n",
        "",
    ],
)
def test_same_as_ipaddress(text: str) -> None:
    try:
        got: int | str = _ip_int.__wrapped__(text)
    except ValueError as exc:
        got = type(exc).__name__
    assert got == _ipaddress(text)


def test_every_octet() -> None:
    for n in range(256):
        for text in (f"{n}.0.0.1", f"0{n}.0.0.1", f"1.1.1.{n}"):
            try:
                got: int | str = _ip_int.__wrapped__(text)
            except ValueError as exc:
                got = type(exc).__name__
            assert got == _ipaddress(text), text
