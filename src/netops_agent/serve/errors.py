"""Every error the service returns is one JSON object (or a small HTML page for the dashboard)
whose `error` says what was wrong and how to fix it. Never a traceback, never a bare 500.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from netops_agent.errors import LabError, NetopsError, NotFoundError
from netops_agent.serve.db import DatabaseBusy, DatabaseMissing
from netops_agent.store.writer import WriterBusy

log = logging.getLogger("netops_agent.serve")


class HttpError(NetopsError):
    """An error with an explicit HTTP status (refused writes, oversized bodies, busy jobs)."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


def status_of(exc: NetopsError) -> int:
    if isinstance(exc, HttpError):
        return exc.status
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, (DatabaseBusy, DatabaseMissing, WriterBusy)):
        return 503
    if getattr(exc, "exit_code", 1) == 2:  # bad input: a value, a file, a name
        return 400
    if isinstance(exc, LabError) or type(exc) is NetopsError:  # a state conflict: already decided, ...
        return 409
    return 500


def wants_html(request: Request) -> bool:
    path = request.url.path
    if path.startswith("/api/") or path.startswith("/static/"):
        return False
    return "text/html" in request.headers.get("accept", "") or request.method != "GET"


def error_response(
    request: Request, status: int, message: str, headers: dict[str, str] | None = None
) -> Response:
    if wants_html(request):
        templates = request.app.state.templates
        return templates.TemplateResponse(
            request, "error.html", {"status": status, "message": message}, status_code=status, headers=headers
        )
    return JSONResponse({"error": message, "status": status}, status_code=status, headers=headers)


def _validation_message(exc: RequestValidationError) -> str:
    problems = []
    for e in exc.errors():
        loc = [str(x) for x in e.get("loc", ()) if x != "body"]
        if e.get("type") == "json_invalid":
            ctx = e.get("ctx") or {}
            return (
                f"malformed JSON body ({ctx.get('error', e.get('msg'))}); send a JSON object, "
                'e.g. {"comment": "ok"}, with Content-Type: application/json'
            )
        where = ".".join(loc) or "body"
        problems.append(f"{where}: {e.get('msg')}")
    return "invalid request: " + "; ".join(problems)


def install(app: FastAPI) -> None:
    @app.exception_handler(NetopsError)
    async def _netops(request: Request, exc: NetopsError) -> Response:
        status = status_of(exc)
        headers = dict(getattr(exc, "headers", {}) or {})
        if isinstance(exc, DatabaseBusy):
            headers["Retry-After"] = "2"
        if status >= 500:
            log.error("%s %s: %s", request.method, request.url.path, exc)
        return error_response(request, status, str(exc), headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        message = _validation_message(exc)
        status = 400 if message.startswith("malformed JSON") else 422
        return error_response(request, status, message)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        message = str(exc.detail)
        if exc.status_code == 404 and message == "Not Found":
            message = f"no such page or endpoint {request.url.path}; the API is listed at /docs"
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}; see /docs"
        return error_response(request, exc.status_code, message, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> Response:
        log.exception("%s %s failed", request.method, request.url.path)
        message = (
            f"internal error ({type(exc).__name__}) while serving {request.url.path}; "
            "the server log has the details"
        )
        return error_response(request, 500, message)


class BodyLimit:
    """ASGI middleware: refuse request bodies over `max_bytes` with 413 before reading them."""

    def __init__(self, app: Any, max_bytes: int, larger: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = larger or {}  # path prefix -> its own limit (webhook receivers)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        limit = next((n for prefix, n in self.larger.items() if path.startswith(prefix)), self.max_bytes)
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await self._refuse(send)
            return
        if length is None and scope.get("method") in ("POST", "PUT", "PATCH"):
            # A chunked body: read it here (at most max_bytes), then replay it to the app.
            chunks, seen, more = [], 0, True
            while more:
                message = await receive()
                if message["type"] != "http.request":
                    break
                chunks.append(message.get("body", b""))
                seen += len(chunks[-1])
                more = message.get("more_body", False)
                if seen > limit:
                    await self._refuse(send)
                    return
            body = b"".join(chunks)
            sent = False

            async def replay() -> Any:
                nonlocal sent
                if sent:
                    return await receive()
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}

            await self.app(scope, replay, send)
            return
        await self.app(scope, receive, send)

    def _message(self) -> str:
        return f"request body too large: at most {self.max_bytes} bytes are accepted"

    async def _refuse(self, send: Any) -> None:
        body = json.dumps({"error": self._message(), "status": 413}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
