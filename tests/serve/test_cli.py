"""`netops-agent serve` refuses unsafe or impossible settings with one clear line."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

from tests.helpers import run_coroutine
from tests.serve.conftest import EXE, cli_env


def serve(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [EXE, "serve", *args], cwd=cwd, capture_output=True, text=True, env=cli_env(), timeout=60
    )


def test_binding_beyond_loopback_needs_a_token(tmp_path: Path) -> None:
    proc = serve("--host", "0.0.0.0", "--db", str(tmp_path / "x.duckdb"), cwd=tmp_path)
    assert proc.returncode == 2
    assert "--token" in proc.stderr and "0.0.0.0" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "x.duckdb").exists()  # refused before touching anything


def test_a_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = serve("--port", str(port), "--db", str(tmp_path / "x.duckdb"), cwd=tmp_path)
    assert proc.returncode == 2
    assert f"127.0.0.1:{port}" in proc.stderr and "--port" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_help_says_what_to_open(tmp_path: Path) -> None:
    proc = serve("--help", cwd=tmp_path)
    assert proc.returncode == 0
    assert "http://127.0.0.1:8080" in proc.stdout and "--token" in proc.stdout


def test_the_port_is_listened_on_before_the_service_loads_and_answers_without_nagle() -> None:
    """`serve` binds first: a browser's connection waits in the backlog instead of being
    refused; and the listener is a TCP socket to asyncio, so responses go out with
    TCP_NODELAY (else each waits for the client's delayed ACK)."""
    import asyncio

    from netops_agent.cli.serve import _listen

    listener = _listen("127.0.0.1", 0)
    port = listener.getsockname()[1]
    early = socket.create_connection(("127.0.0.1", port), timeout=5)  # nothing accepts yet
    nodelay: list[int] = []

    async def serve_once() -> None:
        accepted = asyncio.Event()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                sock = transport.get_extra_info("socket")
                nodelay.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()
                accepted.set()

        server = await asyncio.get_running_loop().create_server(Probe, sock=listener)
        async with server:
            await asyncio.wait_for(accepted.wait(), 10)

    try:
        run_coroutine(serve_once())
    finally:
        early.close()
        listener.close()
    assert nodelay and nodelay[0] != 0


def test_a_bad_detection_file_is_one_line_before_serving(tmp_path: Path) -> None:
    """The rules are loaded (and checked) once, by the receivers, before uvicorn serves."""
    rules = tmp_path / "detection.yaml"
    rules.write_text("thresholds:\n  - name: x\n    metric: no-such-metric\n")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    db = tmp_path / "x.duckdb"
    proc = serve("--port", str(port), "--db", str(db), "--detection", str(rules), cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"error: {rules} (thresholds rule x, field metric)")
    assert "unknown metric 'no-such-metric'" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert "http://" not in proc.stdout  # never announced as serving
