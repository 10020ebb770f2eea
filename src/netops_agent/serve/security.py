"""Who may write: the token, cross-site refusal and CSRF tokens for the dashboard's forms.

- With a token set (`serve --token`, required to bind beyond loopback) every write
  needs it: `Authorization: Bearer TOKEN` or `X-Netops-Token: TOKEN` for the API, or
  the cookie the dashboard's sign-in page sets. Reads stay open.
- Every write made by a browser from another site is refused (Origin / Sec-Fetch-Site),
  and every form post carries a CSRF token that must match its cookie (double submit).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from fastapi import Request, Response

from netops_agent.serve.errors import HttpError

TOKEN_COOKIE = "netops_token"
CSRF_COOKIE = "netops_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


def token_matches(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))


def presented_token(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.headers.get("x-netops-token") or request.cookies.get(TOKEN_COOKIE)


def refuse_cross_site(request: Request) -> None:
    if request.headers.get("sec-fetch-site") == "cross-site":
        raise HttpError(403, "cross-site request refused: writes must come from this dashboard or the API")
    origin = request.headers.get("origin")
    if origin and origin != "null":
        host = request.headers.get("host", "")
        if urlsplit(origin).netloc != host:
            raise HttpError(403, f"cross-site request refused: Origin {origin} is not this server ({host})")


def require_write(request: Request) -> None:
    """FastAPI dependency for every write endpoint."""
    refuse_cross_site(request)
    token = request.app.state.token
    if token and not token_matches(token, presented_token(request)):
        raise HttpError(
            401,
            "this server requires a token for writes: send `Authorization: Bearer TOKEN` "
            "(API) or sign in at /login (dashboard)",
            {"WWW-Authenticate": "Bearer"},
        )


def check_csrf(request: Request, form_value: str | None) -> None:
    cookie = request.cookies.get(CSRF_COOKIE)
    given = form_value or request.headers.get(CSRF_HEADER)
    if not cookie or not given or not hmac.compare_digest(cookie, given):
        raise HttpError(
            403,
            "form expired or sent from another site (CSRF token missing or wrong): "
            "reload the page and submit again",
        )


async def csrf_cookie(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """Give every browser a CSRF token (cookie + `request.state.csrf` for the templates)."""
    token = request.cookies.get(CSRF_COOKIE)
    fresh = not token
    request.state.csrf = token or secrets.token_urlsafe(24)
    response = await call_next(request)
    if fresh:
        response.set_cookie(CSRF_COOKIE, request.state.csrf, httponly=True, samesite="strict")
    return response
