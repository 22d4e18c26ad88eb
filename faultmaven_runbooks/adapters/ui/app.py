"""The console as an app of its own, mounted at /ui by the HTTP service (adapters/http/app.py).

The HTTP service's guard has already checked Host and Origin and the body size; the console
replaces the API's bearer token with a signed session cookie (sessions.py), a CSRF token on every
form, and a Content-Security-Policy that lets no script run but the console's own files.
"""

from __future__ import annotations

import logging
from importlib.resources import files
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ...clock import utc_now
from ...settings import Settings
from ..metrics import Metrics
from . import auth, dashboards, drafts, executions, library
from .console import Console, Refused, SignInRequired, redirect, templates
from .sessions import SessionCodec, load_secret

log = logging.getLogger(__name__)

# No inline script or style, nothing from another origin: markup that slipped into a page (a
# runbook's <script>, an onerror= attribute) has nothing it is allowed to run.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
           (b"x-frame-options", b"DENY"), (b"referrer-policy", b"same-origin"),
           (b"cross-origin-opener-policy", b"same-origin")]


class SecurityHeaders:
    """Security headers on every console answer; pages (not assets) are never cached."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope.get("path", "").startswith("/ui/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + HEADERS + (
                    [] if static else [(b"cache-control", b"no-store")])
            await send(message)

        await self.app(scope, receive, with_headers)


def build_console(service: Any, settings: Settings, metrics: Metrics) -> FastAPI:
    clock = getattr(service, "clock", utc_now)
    codec = SessionCodec(load_secret(settings), settings.ui.session_ttl_seconds, clock)
    console = Console(service=service, settings=settings, codec=codec, metrics=metrics, templates=templates())
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.state.console = console
    for module in (auth, executions, drafts, library, dashboards):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=str(files("faultmaven_runbooks.adapters.ui") / "static")),
              name="static")

    @app.exception_handler(SignInRequired)
    async def sign_in(request: Request, exc: SignInRequired) -> Response:
        if request.method == "GET":
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return redirect(auth.login_url(target, exc.message))
        return console.page(request, "message.html", status=401, title="Sign in first",
                            message=exc.message or "Your session has ended: sign in and submit again.")

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> Response:
        return console.page(request, "message.html", status=exc.status, title="Refused", message=exc.message)

    @app.exception_handler(404)
    async def not_found(request: Request, exc: Exception) -> Response:
        return console.page(request, "message.html", status=404, title="Not found",
                            message="There is no console page at this address.")

    app.add_middleware(SecurityHeaders)
    return app
