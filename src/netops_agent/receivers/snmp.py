"""SNMP traps in (v2c): linkDown/linkUp and BGP4-MIB transitions become `events` rows.

A trap is turned into the same kind of row a syslog message gives (facility `SNMP`,
a mnemonic per trap, a message naming the entity), so the detection rules in
`data/detection.yaml` (`snmp-link-down`, `snmp-bgp-backward`) raise alerts from it
and correlation treats it like any other symptom. Other traps are kept as
`SNMP-6-TRAP` rows with their OID and variable bindings.

The receiver is pysnmp's notification receiver on an asyncio loop of its own thread:
the callback only converts and hands rows on, it never waits for the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import Any

from netops_agent.receivers.syslog import SyslogMessage

log = logging.getLogger("netops_agent.receivers.snmp")

SNMP_TRAP_OID = "1.3.6.1.6.3.1.1.4.1.0"
SNMP_TRAP_ADDRESS = "1.3.6.1.6.3.18.1.3.0"
LINK_DOWN = "1.3.6.1.6.3.1.1.5.3"
LINK_UP = "1.3.6.1.6.3.1.1.5.4"
# BGP4-MIB: RFC 1657 numbering and RFC 4273's bgpNotification subtree
BGP_ESTABLISHED = {"1.3.6.1.2.1.15.7.1", "1.3.6.1.2.1.15.0.1"}
BGP_BACKWARD = {"1.3.6.1.2.1.15.7.2", "1.3.6.1.2.1.15.0.2"}
IF_INDEX = "1.3.6.1.2.1.2.2.1.1."
IF_DESCR = "1.3.6.1.2.1.2.2.1.2."
IF_ADMIN = "1.3.6.1.2.1.2.2.1.7."
IF_OPER = "1.3.6.1.2.1.2.2.1.8."
IF_NAME = "1.3.6.1.2.1.31.1.1.1.1."
BGP_PEER_TABLE = "1.3.6.1.2.1.15.3.1."
BGP_PEER_STATE = "1.3.6.1.2.1.15.3.1.2."
BGP_PEER_LAST_ERROR = "1.3.6.1.2.1.15.3.1.14."
IF_STATUS = {
    1: "up",
    2: "down",
    3: "testing",
    4: "unknown",
    5: "dormant",
    6: "notPresent",
    7: "lowerLayerDown",
}
BGP_STATES = {1: "idle", 2: "connect", 3: "active", 4: "opensent", 5: "openconfirm", 6: "established"}


def _text(value: Any) -> str:
    if hasattr(value, "prettyPrint"):
        return str(value.prettyPrint())
    return str(value)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def trap_event(
    varbinds: Sequence[tuple[str, Any]], *, sender: str = "", received_at: datetime | None = None
) -> SyslogMessage | None:
    """Variable bindings of one v2c trap -> an `events` row (device: the sending agent)."""
    ts = received_at or datetime.now(timezone.utc).replace(tzinfo=None)
    vb = [(str(oid), val) for oid, val in varbinds]
    values = dict(vb)
    trap = _text(values.get(SNMP_TRAP_OID, "")).strip()
    if not trap:
        return None
    agent = _text(values[SNMP_TRAP_ADDRESS]) if SNMP_TRAP_ADDRESS in values else sender

    def find(prefix: str) -> tuple[str, Any] | None:
        return next(((oid[len(prefix) :], val) for oid, val in vb if oid.startswith(prefix)), None)

    if trap in (LINK_DOWN, LINK_UP):
        name = find(IF_NAME) or find(IF_DESCR)
        index = find(IF_INDEX) or find(IF_ADMIN) or find(IF_OPER)
        idx = _text(index[1]) if index and index[0] == "" else (index[0] if index else "?")
        iface = _text(name[1]) if name else f"ifIndex{idx}"
        admin, oper = find(IF_ADMIN), find(IF_OPER)
        state = "down" if trap == LINK_DOWN else "up"
        detail = ", ".join(
            f"{what} {IF_STATUS.get(_int(v[1]) or 0, _text(v[1]))}"
            for what, v in (("adminStatus", admin), ("operStatus", oper))
            if v is not None
        )
        mnemonic, sev = ("LINKDOWN", 3) if state == "down" else ("LINKUP", 5)
        message = f"Interface {iface}, ifIndex {idx}, changed state to {state}"
        return SyslogMessage(
            ts, agent, "SNMP", sev, mnemonic, f"{message} ({detail})" if detail else message, sender
        )
    if trap in BGP_BACKWARD or trap in BGP_ESTABLISHED:
        peer_vb = find(BGP_PEER_TABLE)
        peer = _peer_from_suffix(peer_vb[0].split(".", 1)[1] if peer_vb and "." in peer_vb[0] else "")
        state = find(BGP_PEER_STATE)
        err = find(BGP_PEER_LAST_ERROR)
        st = BGP_STATES.get(_int(state[1]) or 0, _text(state[1])) if state else ""
        if trap in BGP_BACKWARD:
            msg = f"BGP peer {peer or '?'} backward transition" + (f" to {st}" if st else "")
            if err is not None:
                msg += f", last error {_hex(err[1])}"
            return SyslogMessage(ts, agent, "SNMP", 3, "BGPBACKWARD", msg, sender)
        return SyslogMessage(
            ts, agent, "SNMP", 5, "BGPESTABLISHED", f"BGP peer {peer or '?'} established", sender
        )
    rest = "; ".join(f"{oid}={_text(v)}" for oid, v in vb if oid not in (SNMP_TRAP_OID, "1.3.6.1.2.1.1.3.0"))
    return SyslogMessage(ts, agent, "SNMP", 6, "TRAP", f"trap {trap} {rest}".strip(), sender)


def _peer_from_suffix(suffix: str) -> str:
    """bgpPeerTable rows are indexed by the peer's IPv4 address (the last four sub-ids)."""
    parts = suffix.split(".")[-4:]
    try:
        return str(ipaddress.IPv4Address(".".join(parts)))
    except (ValueError, ipaddress.AddressValueError):
        return ""


def _hex(value: Any) -> str:
    raw = value.asOctets() if hasattr(value, "asOctets") else str(value).encode()
    return raw.hex() or "0000"


Handler = Callable[[SyslogMessage], None]


class TrapReceiver:
    """SNMPv2c trap listener on UDP (127.0.0.1:1162 by default; port 0 picks a free one)."""

    def __init__(
        self, on_message: Handler, *, host: str = "127.0.0.1", port: int = 1162, community: str = "public"
    ) -> None:
        self.on_message = on_message
        self.community = community
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
        self.sock.bind((host, port))
        self.host, self.port = self.sock.getsockname()[:2]
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="snmp-traps", daemon=True)
        self.engine: Any = None

    def start(self) -> TrapReceiver:
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise self._error
        log.info("SNMP traps (v2c) on %s:%d", self.host, self.port)
        return self

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            from pysnmp.carrier.asyncio.dgram import udp
            from pysnmp.entity import config, engine
            from pysnmp.entity.rfc3413 import ntfrcv

            self.engine = engine.SnmpEngine()
            transport = udp.UdpTransport(loop=self.loop).open_server_mode(sock=self.sock)
            config.add_transport(self.engine, udp.DOMAIN_NAME, transport)
            config.add_v1_system(self.engine, "netops-area", self.community)
            ntfrcv.NotificationReceiver(self.engine, self._callback)
            self.engine.transport_dispatcher.job_started(1)
        except BaseException as exc:  # surfaced by start()
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            self.loop.run_forever()
        finally:
            self.engine.transport_dispatcher.close_dispatcher()
            pending = asyncio.all_tasks(self.loop)
            for task in pending:
                task.cancel()
            if pending:
                self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self.loop.close()

    def _callback(
        self, snmp_engine: Any, state_ref: Any, ctx_engine: Any, ctx_name: Any, varbinds: Any, cb: Any
    ) -> None:
        sender = ""
        try:
            _, address = snmp_engine.message_dispatcher.get_transport_info(state_ref)
            sender = str(address[0])
        except Exception:  # the address is a nicety; the trap still counts
            sender = ""
        try:
            event = trap_event([(str(oid), val) for oid, val in varbinds], sender=sender)
        except Exception:
            log.exception("unreadable trap from %s", sender or "?")
            return
        if event is not None:
            self.on_message(event)

    def stop(self) -> None:
        if self._thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=5)
        with contextlib.suppress(OSError):
            self.sock.close()
