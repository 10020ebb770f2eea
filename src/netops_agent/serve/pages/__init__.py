"""Dashboard pages: server-rendered Jinja2 templates, htmx for live parts."""

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from netops_agent.serve.security import check_csrf, require_write


def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    ctx = {"csrf": getattr(request.state, "csrf", ""), **context}
    return request.app.state.templates.TemplateResponse(request, name, ctx, status_code=status_code)


def form_write(request: Request, csrf_token: str | None) -> None:
    """A write from a dashboard form: same rules as the API, plus the CSRF token."""
    require_write(request)
    check_csrf(request, csrf_token)


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)
