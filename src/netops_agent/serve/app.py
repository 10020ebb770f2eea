"""The FastAPI application behind `netops-agent serve`: REST API, dashboard, background jobs.

`create_app` wires one `StoreAccess` (short leases on the DuckDB file), one
`JobManager` and the routers. Every area is one APIRouter module listed in
`API_ROUTERS` / `PAGE_ROUTERS`; a new area (a webhook receiver, say) is one more
module in a list, or passed in `extra_routers`. The route modules do not postpone their
annotations (no `from __future__ import annotations`): FastAPI would evaluate each one
from its string, for every route, at every start.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import APIRouter, Depends, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from netops_agent.serve import errors, security
from netops_agent.serve.db import DatabaseBusy, StoreAccess
from netops_agent.serve.jobs import JobManager
from netops_agent.serve.templating import make_templates

if TYPE_CHECKING:
    from netops_agent.receivers.service import ReceiverOptions

HERE = Path(__file__).parent
API_ROUTERS = [
    "netops_agent.serve.api.incidents",
    "netops_agent.serve.api.approvals",
    "netops_agent.serve.api.knowledge",
    "netops_agent.serve.api.evals",
    "netops_agent.serve.api.lab",
    "netops_agent.serve.api.jobs",
]
PAGE_ROUTERS = [
    "netops_agent.serve.pages.overview",
    "netops_agent.serve.pages.incidents",
    "netops_agent.serve.pages.topology",
    "netops_agent.serve.pages.approvals",
    "netops_agent.serve.pages.evals",
]
MAX_BODY_BYTES = 64 * 1024
INTAKE_MAX_BODY_BYTES = 8 * 1024 * 1024


def create_app(
    db_path: Path | str,
    token: str | None = None,
    *,
    hold_s: float | None = 0.5,
    max_body_bytes: int = MAX_BODY_BYTES,
    jobs_dir: Path | None = None,
    extra_routers: Iterable[APIRouter] = (),
    receivers: ReceiverOptions | None = None,
    warm: bool = False,
    access: StoreAccess | None = None,
    on_start: Callable[[], None] | None = None,
) -> FastAPI:
    """The service for one DuckDB file. `token`, when set, is required for every write.

    `hold_s`: seconds a read-only connection is kept after the last request (lease mode,
    other processes may write the file in between); None keeps one read-write connection
    for the service's life with a cursor per request (see `serve.db`). `warm` opens the
    database and compiles the first pages' templates at start, beside the first requests.
    `access`: the database access to use (`serve` makes it first, to open the file while
    FastAPI loads); `hold_s` is then its own. `on_start` is called once the service is
    ready to serve (its lifespan has started).
    """
    access = access or StoreAccess(db_path, hold_s=hold_s)
    jobs = JobManager(access, jobs_dir)
    intake = None
    if receivers is not None:  # Alertmanager / syslog / traps in, notifications out
        from netops_agent.receivers.service import ReceiverService

        intake = ReceiverService(db_path, receivers, lease=access.write)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if intake is not None:  # the file is checked once: by the access if it could open it
            try:
                intake.start(check_db=not access.checked())
            except DatabaseBusy:  # another process writes it now: serve; pages say so meanwhile
                errors.log.warning("%s: starting anyway", access.path)
                intake.start(check_db=False)
        warming = threading.Thread(target=_warm, args=(app,), name="netops-warm") if warm else None
        if warming is not None:
            warming.start()
        if on_start is not None:
            on_start()
        try:
            yield
        finally:
            if warming is not None:
                warming.join()
            if intake is not None:
                intake.stop()
            jobs.stop_all()
            access.close()

    app = FastAPI(
        title="netops-agent",
        summary="Incidents, tickets, approvals, runbooks, evaluation runs and the lab over the DuckDB store.",
        version="1",
        lifespan=lifespan,
        docs_url=None,  # served below from the package's own copy of Swagger UI (no CDN)
        redoc_url=None,
    )
    app.state.access = access
    app.state.jobs = jobs
    app.state.token = token or None
    app.state.templates = make_templates(lambda: bool(app.state.token))
    errors.install(app)
    app.middleware("http")(security.csrf_cookie)
    app.state.receivers = intake
    # Alertmanager groups can carry thousands of alerts: its endpoint takes larger bodies
    app.add_middleware(
        errors.BodyLimit, max_bytes=max_body_bytes, larger={"/api/v1/intake/": INTAKE_MAX_BODY_BYTES}
    )
    # Pages first: FastAPI builds an included router's routes when a request first walks
    # past it, so the first page (`/`) builds the overview's routes, not the API's too.
    for name in PAGE_ROUTERS + API_ROUTERS:
        app.include_router(importlib.import_module(name).router)
    if intake is not None:
        app.include_router(intake.router(dependencies=[Depends(security.require_write)]))
    for router in extra_routers:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="netops-agent API",
            swagger_js_url="/static/swagger/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger/swagger-ui.css",
            swagger_favicon_url="/static/swagger/favicon-32x32.png",
        )

    return app


def _warm(app: FastAPI) -> None:
    """Open the read connection and compile the overview's and incident page's templates
    (an optimisation only: whatever fails here is met, and reported, by the first request)."""
    try:
        app.state.access.warm()
        for name in ("overview.html", "incident.html"):
            app.state.templates.get_template(name)
    except Exception:
        errors.log.debug("warming up failed", exc_info=True)
