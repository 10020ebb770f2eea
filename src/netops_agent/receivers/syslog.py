"""Syslog in: RFC 3164 and RFC 5424 messages, Cisco `%FAC-SEV-MNEMONIC` tags, UDP and TCP.

A router's `logging host` sends lines such as::

    <187>42: site1-leaf1: *Jan  5 08:03:10.123: %LINK-3-UPDOWN: Interface Gi0/1, changed state to down
    <13>1 2026-01-05T08:03:10Z site1-leaf1 - - - - %BGP-5-ADJCHANGE: neighbor 10.0.0.1 Down

`parse` turns either into the row the twin itself writes to the `events` table
(ts, device, facility, severity, mnemonic, message), so the shipped syslog detectors
work on received messages unchanged. A message without a Cisco tag keeps the syslog
facility and severity of its PRI and the mnemonic of its app-name.

The servers are plain `socketserver` threads: they parse and hand rows to a sink and
never wait for the database (the sink batches in its own thread).
"""

from __future__ import annotations

import logging
import re
import socket
import socketserver
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

log = logging.getLogger("netops_agent.receivers.syslog")

FACILITIES = [
    "KERN",
    "USER",
    "MAIL",
    "DAEMON",
    "AUTH",
    "SYSLOG",
    "LPR",
    "NEWS",
    "UUCP",
    "CRON",
    "AUTHPRIV",
    "FTP",
    "NTP",
    "AUDIT",
    "ALERT",
    "CLOCK",
    "LOCAL0",
    "LOCAL1",
    "LOCAL2",
    "LOCAL3",
    "LOCAL4",
    "LOCAL5",
    "LOCAL6",
    "LOCAL7",
]
MAX_MESSAGE = 8192  # RFC 5424 receivers SHOULD accept 2048; we accept more, never unbounded

_PRI = re.compile(r"^<(\d{1,3})>")
_CISCO = re.compile(r"%(?P<fac>[A-Z0-9_]+)-(?P<sev>[0-7])-(?P<mne>[A-Z0-9_]+):\s*(?P<msg>.*)$", re.S)
_RFC5424 = re.compile(
    r"^(?P<ver>\d{1,2}) (?P<ts>\S+) (?P<host>\S+) (?P<app>\S+) (?P<proc>\S+) (?P<msgid>\S+) "
    r"(?P<sd>-|(?:\[(?:[^\]\\]|\\.)*\])+)(?: (?P<msg>.*))?$",
    re.S,
)
_RFC3164_TS = re.compile(r"^(?P<ts>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) (?P<rest>.*)$", re.S)
_TAG = re.compile(r"^(?P<tag>[A-Za-z0-9_.\-/]{1,48})(?:\[(?P<pid>\d+)\])?:\s?(?P<msg>.*)$", re.S)
_SEQ_HOST = re.compile(
    r"^(?:\d+:\s*)?(?:(?P<host>[A-Za-z0-9_.\-]+):\s+)?(?:[*.]?[A-Z][a-z]{2}\s+\d+ [\d:.]+:\s*)?"
)


@dataclass(frozen=True)
class SyslogMessage:
    """One received message as an `events` row, plus where it came from."""

    ts: datetime
    device: str
    facility: str
    severity: int
    mnemonic: str
    message: str
    sender: str = ""

    def row(self) -> dict[str, object]:
        return {
            "ts": self.ts,
            "device": self.device,
            "facility": self.facility,
            "severity": self.severity,
            "mnemonic": self.mnemonic,
            "message": self.message,
        }


def _naive_utc(ts: datetime) -> datetime:
    if ts.tzinfo is None:
        return ts
    return ts.astimezone(timezone.utc).replace(tzinfo=None)


def _parse_5424_ts(text: str, fallback: datetime) -> datetime:
    if text == "-":
        return fallback
    try:
        return _naive_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        return fallback


def parse(
    data: bytes | str, *, sender: str = "", received_at: datetime | None = None
) -> SyslogMessage | None:
    """One datagram or TCP frame -> a message; None for an empty or unusable frame."""
    now = received_at or datetime.now(timezone.utc).replace(tzinfo=None)
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    text = text.lstrip("\ufeff").strip("\r\n\x00 ")[:MAX_MESSAGE]
    if not text:
        return None
    pri = 13  # user.notice, RFC 3164's default when PRI is missing
    m = _PRI.match(text)
    if m and int(m.group(1)) <= 191:
        pri = int(m.group(1))
        text = text[m.end() :]
    facility, severity = FACILITIES[pri >> 3], pri & 7
    host, ts, app, body = "", now, "", text
    r5 = _RFC5424.match(text)
    if r5 and r5.group("ver") == "1":
        ts = _parse_5424_ts(r5.group("ts"), now)
        host = "" if r5.group("host") == "-" else r5.group("host")
        app = "" if r5.group("app") == "-" else r5.group("app")
        body = (r5.group("msg") or "").lstrip("\ufeff")
    else:
        r3 = _RFC3164_TS.match(text)
        if r3:
            rest = r3.group("rest")
            first, _, after = rest.partition(" ")
            # RFC 3164 HOSTNAME then TAG; Cisco without `logging origin-id` sends no host
            if after and not first.endswith(":") and "%" not in first:
                host, rest = first, after
            body = rest
        else:
            sh = _SEQ_HOST.match(text)  # Cisco's default: "42: host: *Jan  5 08:03:10.123: %TAG..."
            if sh and sh.group("host") and "%" not in sh.group("host"):
                host = sh.group("host")
            body = text[sh.end() :] if sh else text
    cisco = _CISCO.search(body)
    if cisco:
        return SyslogMessage(
            ts=ts,
            device=host or sender,
            facility=cisco.group("fac"),
            severity=int(cisco.group("sev")),
            mnemonic=cisco.group("mne"),
            message=cisco.group("msg").strip(),
            sender=sender,
        )
    tag = _TAG.match(body)
    if tag and not app:
        app, body = tag.group("tag"), tag.group("msg")
    return SyslogMessage(
        ts=ts,
        device=host or sender,
        facility=facility,
        severity=severity,
        mnemonic=(app or "SYSLOG").upper()[:48],
        message=body.strip(),
        sender=sender,
    )


def split_tcp(buffer: bytes) -> tuple[list[bytes], bytes]:
    """Frames of a TCP syslog stream (RFC 6587: octet counting, LF or NUL terminated) and the rest."""
    frames: list[bytes] = []
    while buffer:
        m = re.match(rb"^(\d{1,5}) ", buffer)
        if m and buffer[m.end() : m.end() + 1] == b"<":
            size = int(m.group(1))
            end = m.end() + size
            if len(buffer) < end:
                break
            frames.append(buffer[m.end() : end])
            buffer = buffer[end:]
            continue
        # LF (RFC 6587 non-transparent framing) or NUL (Python's SysLogHandler, older senders)
        ends = [i for i in (buffer.find(b"\n"), buffer.find(b"\x00")) if i >= 0]
        nl = min(ends) if ends else -1
        if nl < 0:
            if len(buffer) > MAX_MESSAGE:  # a sender that never terminates: cut, don't grow
                frames.append(buffer[:MAX_MESSAGE])
                buffer = b""
            break
        frames.append(buffer[:nl])
        buffer = buffer[nl + 1 :]
    return [f for f in frames if f.strip()], buffer


Handler = Callable[[SyslogMessage], None]


class _Udp(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        data = self.request[0]
        msg = parse(data, sender=self.client_address[0])
        if msg is not None:
            self.server.on_message(msg)  # type: ignore[attr-defined]


class _Tcp(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        buffer = b""
        while True:
            try:
                chunk = self.request.recv(65536)
            except OSError:
                return
            if not chunk:
                break
            frames, buffer = split_tcp(buffer + chunk)
            for frame in frames:
                msg = parse(frame, sender=self.client_address[0])
                if msg is not None:
                    self.server.on_message(msg)  # type: ignore[attr-defined]
        if buffer.strip():
            msg = parse(buffer, sender=self.client_address[0])
            if msg is not None:
                self.server.on_message(msg)  # type: ignore[attr-defined]


class _UdpServer(socketserver.ThreadingMixIn, socketserver.UDPServer):
    daemon_threads = True
    allow_reuse_address = True

    def server_bind(self) -> None:
        # bursts of thousands of datagrams: a large receive buffer, so the kernel keeps them
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 * 1024 * 1024)
        super().server_bind()


class _TcpServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


class SyslogServer:
    """UDP and TCP listeners on one port; every parsed message goes to `on_message`."""

    def __init__(self, on_message: Handler, *, host: str = "127.0.0.1", port: int = 5514) -> None:
        self.udp = _UdpServer((host, port), _Udp)
        udp_port = self.udp.server_address[1]
        self.tcp = _TcpServer((host, udp_port), _Tcp)
        for srv in (self.udp, self.tcp):
            srv.on_message = on_message  # type: ignore[attr-defined]
        self.host, self.port = host, udp_port
        self._threads: list[threading.Thread] = []

    def start(self) -> SyslogServer:
        for srv, name in ((self.udp, "syslog-udp"), (self.tcp, "syslog-tcp")):
            t = threading.Thread(
                target=srv.serve_forever, kwargs={"poll_interval": 0.2}, name=name, daemon=True
            )
            t.start()
            self._threads.append(t)
        log.info("syslog listening on %s:%d (udp+tcp)", self.host, self.port)
        return self

    def stop(self) -> None:
        for srv in (self.udp, self.tcp):
            srv.shutdown()
            srv.server_close()
        for t in self._threads:
            t.join(timeout=2)
