"""The MCP server: the workbench's tools and the inventory/runbooks as resources.

Built on the official SDK's low-level `Server`, because the tool list is data (the
tool registry) rather than a set of decorated functions. The server holds a
`Workbench` and nothing else: every call goes through its executor, audit and gate.

Transports: stdio (`serve_stdio`, what an MCP client config launches) and Streamable
HTTP (`HttpServer`: uvicorn on 127.0.0.1 in a background thread, which is how the
evaluation harness serves one case to an external agent).
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from typing import Any

import mcp_types as types
from mcp.server.lowlevel import Server

from netops_agent.agents import toolspec
from netops_agent.agents.workbench import Workbench
from netops_agent.errors import NetopsError

log = logging.getLogger("netops_agent.mcp")

INSTRUCTIONS = (
    "netops-agent lab: work network incidents the way a NOC engineer would. list_incidents, "
    "get_incident, search_runbooks/get_runbook, read-only show tools (parsed rows plus raw text), "
    "propose_change (policy-gated; may need a human's approval), validate (fresh re-observation), "
    "update_ticket. A ticket is resolved only after a validation that ran after the last change passed."
)
INVENTORY_URI = "netops://inventory"
RUNBOOKS_URI = "netops://runbooks"


def _dump(value: Any) -> str:
    return json.dumps(value, default=str, indent=1)


def build_server(wb: Workbench, name: str = "netops-agent") -> Server[Any]:
    """An MCP server over one workbench (one lab, one store)."""
    specs = toolspec.catalogue()

    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(
            tools=[
                types.Tool(name=s.name, description=s.description, input_schema=s.schema(with_incident=True))
                for s in specs.values()
            ]
        )

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        try:
            result = toolspec.call(wb, params.name, params.arguments or {})
        except NetopsError as exc:
            return types.CallToolResult(
                content=[types.TextContent(type="text", text=str(exc))], is_error=True
            )
        except Exception as exc:  # a bug must not take the server down; the caller sees one line
            log.exception("tool %s failed", params.name)
            text = f"internal error in {params.name}: {type(exc).__name__}: {exc}"
            return types.CallToolResult(content=[types.TextContent(type="text", text=text)], is_error=True)
        structured = json.loads(json.dumps(result, default=str))
        if not isinstance(structured, dict):
            structured = {"items": structured}
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=_dump(result))], structured_content=structured
        )

    async def list_resources(ctx: Any, params: Any) -> types.ListResourcesResult:
        res = [
            types.Resource(name="inventory", uri=INVENTORY_URI, mime_type="application/json",
                           description="Sites, devices, interfaces, cables, BGP sessions, prefixes"),
            types.Resource(name="runbooks", uri=RUNBOOKS_URI, mime_type="application/json",
                           description="Every runbook's id, title, fault types and symptoms"),
        ]  # fmt: skip
        res += [
            types.Resource(name=rb_id, uri=f"{RUNBOOKS_URI}/{rb_id}", mime_type="application/json",
                           description=rb.title)
            for rb_id, rb in sorted(wb.runbooks.items())
        ]  # fmt: skip
        return types.ListResourcesResult(resources=res)

    async def read_resource(ctx: Any, params: types.ReadResourceRequestParams) -> types.ReadResourceResult:
        uri = str(params.uri)
        with wb.lock:
            if uri == INVENTORY_URI:
                body: Any = wb.inventory()
            elif uri == RUNBOOKS_URI:
                body = [
                    {"id": rb.id, "title": rb.title, "fault_types": rb.fault_types, "symptoms": rb.symptoms}
                    for rb in wb.runbooks.values()
                ]
            elif uri.startswith(RUNBOOKS_URI + "/") and uri.rsplit("/", 1)[1] in wb.runbooks:
                body = wb.get_runbook(uri.rsplit("/", 1)[1])
            else:
                from mcp.shared.exceptions import MCPError

                raise MCPError(code=-32002, message=f"no resource {uri}; list_resources shows them")
        return types.ReadResourceResult(
            contents=[types.TextResourceContents(uri=uri, mime_type="application/json", text=_dump(body))]
        )

    return Server(
        name,
        version=_version(),
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_resources=list_resources,
        on_read_resource=read_resource,
    )


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("netops-agent")
    except PackageNotFoundError:
        return "0"


async def _run_stdio(server: Server[Any]) -> None:
    from mcp.server.stdio import stdio_server

    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


def serve_stdio(wb: Workbench) -> None:
    """Serve over stdin/stdout until the client closes the pipe."""
    import anyio

    anyio.run(_run_stdio, build_server(wb))


class HttpServer:
    """Streamable HTTP on 127.0.0.1 (port 0: a free one) in a background thread."""

    def __init__(self, wb: Workbench, port: int = 0) -> None:
        import uvicorn

        app = build_server(wb).streamable_http_app(host="127.0.0.1")
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._sock.bind(("127.0.0.1", port))
        except OSError as exc:
            self._sock.close()
            raise NetopsError(
                f"cannot listen on 127.0.0.1:{port} ({exc.strerror}); "
                "pass another --port (0 picks a free one)"
            ) from None
        self.port = self._sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    def start(self, timeout: float = 10.0) -> HttpServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise NetopsError(f"the MCP server did not start on 127.0.0.1:{self.port}")
            time.sleep(0.01)
        return self

    def serve_forever(self) -> None:
        """Run in the calling thread (the `netops-agent mcp --transport http` command)."""
        self._server.run(sockets=[self._sock])

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self._sock.close()

    def __enter__(self) -> HttpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
