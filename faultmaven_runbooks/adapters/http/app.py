"""One Starlette app: the REST API, the webhooks, /metrics, and MCP over streamable HTTP and SSE."""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.types import Scope

from ...settings import Settings
from ..mcp.transport import RefuseBatches
from . import openapi, routes_api_v1, routes_executions, routes_runbooks, routes_storage, routes_webhooks
from .config import HttpSettings, is_loopback
from .context import AppContext, ctx
from .metrics import MetricsMiddleware, new_metrics
from .responses import EXCEPTION_HANDLERS, call
from .security import Allowlist, GuardMiddleware

log = logging.getLogger(__name__)

MCP_PATH = "/mcp"
SSE_PATH = "/sse"
SSE_MESSAGES = "/messages/"
MIN_PUBLIC_TOKEN_LEN = 16


class UnsafeBind(SystemExit):
    """Raised instead of listening where anyone could reach an unauthenticated API."""


def check_bind(host: str, auth_token: str | None) -> None:
    if is_loopback(host):
        return
    # Exposure: beyond loopback anyone on the network could search, execute and approve.
    if not auth_token:
        raise UnsafeBind(
            f"refusing to listen on {host} without an auth token: set FAULTMAVEN_RUNBOOKS_AUTH_TOKEN "
            "or listen on 127.0.0.1"
        )
    if len(auth_token) < MIN_PUBLIC_TOKEN_LEN:
        raise UnsafeBind(f"the auth token is too short to expose on {host}: use at least {MIN_PUBLIC_TOKEN_LEN} characters")


async def metrics_endpoint(request: Request) -> Response:
    c = ctx(request)

    def gauges() -> dict[str, tuple[str, float]]:
        out = {"faultmaven_uptime_seconds": ("Seconds since the app started.", time.time() - c.metrics.started)}
        try:
            health = c.service.health()
        except Exception:  # a broken index shows up as a missing gauge and up=0, not a failed scrape
            out["faultmaven_index_up"] = ("1 when the search index answers health checks.", 0)
            return out
        out["faultmaven_index_up"] = ("1 when the search index answers health checks.", 1)
        for key, value in _numbers(health):
            out[f"faultmaven_index_{key}"] = (f"Search index: {key.replace('_', ' ')}.", value)
        return out

    text = c.metrics.render(await call(gauges))
    return PlainTextResponse(text, media_type="text/plain; version=0.0.4; charset=utf-8")


def _numbers(data: Any, prefix: str = "") -> list[tuple[str, float]]:
    """Numeric leaves of the health report (one level of nesting), as gauge names."""
    found = []
    if isinstance(data, dict):
        for key, value in data.items():
            name = "".join(ch if ch.isalnum() else "_" for ch in f"{prefix}{key}").lower()
            if name.startswith("uptime"):
                continue  # the app's own uptime gauge covers it
            if isinstance(value, (bool, int, float)):
                found.append((name, float(value)))
            elif isinstance(value, dict) and not prefix:
                found.extend(_numbers(value, prefix=f"{key}_"))
    return found


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


def _route_namer(routes: list[BaseRoute]):
    """Route template for a request: a bounded label set, whatever paths clients invent."""

    def route_of(scope: Scope) -> str:
        partial = None
        for r in routes:
            try:
                match = r.matches(scope)[0]
            except Exception:
                continue
            if match == Match.FULL:
                return r.path.rstrip("/") or "/"
            if match == Match.PARTIAL and partial is None:
                partial = r.path.rstrip("/") or "/"
        return partial or "unmatched"

    return route_of


def _mcp_routes(mcp_server: Any, allow: Allowlist, http: HttpSettings) -> tuple[list[BaseRoute], Any]:
    security = allow.transport_security()
    streamable = mcp_server.streamable_http_app(
        streamable_http_path=MCP_PATH, transport_security=security, max_request_body_size=http.max_body_bytes,
        stateless_http=http.mcp_stateless,
    )
    session_manager = mcp_server.session_manager  # created by the call above; needs our lifespan
    sse = mcp_server.sse_app(
        sse_path=SSE_PATH, message_path=SSE_MESSAGES, transport_security=security,
        max_request_body_size=http.max_body_bytes,
    )
    wanted = {MCP_PATH, SSE_PATH, SSE_MESSAGES.rstrip("/")}
    routes = [r for r in [*streamable.routes, *sse.routes] if isinstance(r, (Route, Mount)) and r.path in wanted]
    return routes, session_manager


def build_app(
    service: Any,
    mcp_server: Any,
    settings: Settings,
    http: HttpSettings | None = None,
    bind_host: str | None = None,
) -> Starlette:
    """The whole HTTP surface. `mcp_server` may be None to serve the REST API alone."""
    http = http or HttpSettings()
    bind_host = bind_host or settings.host
    check_bind(bind_host, settings.auth_token)
    allow = Allowlist(bind_host, settings.port, http)
    metrics = new_metrics()

    routes: list[BaseRoute] = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
        *openapi.ROUTES,
        *routes_executions.ROUTES,  # before /runbooks/{runbook_id}, which would shadow them
        *routes_storage.ROUTES,
        *routes_runbooks.ROUTES,
        *routes_api_v1.ROUTES,
        *routes_webhooks.ROUTES,
    ]
    session_manager = None
    if mcp_server is not None:
        mcp_routes, session_manager = _mcp_routes(mcp_server, allow, http)
        routes.extend(mcp_routes)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        # The streamable HTTP session manager owns a task group; it must run for the app's life.
        if session_manager is None:
            yield
            return
        async with session_manager.run():
            yield

    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(MetricsMiddleware, metrics=metrics, route_of=_route_namer(routes)),
            Middleware(GuardMiddleware, allow=allow, auth_token=settings.auth_token, http=http),
            Middleware(RefuseBatches, paths=(MCP_PATH, SSE_MESSAGES)),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
    app.state.ctx = AppContext(service=service, settings=settings, http=http, metrics=metrics)
    app.state.openapi = openapi.build_openapi()
    return app


def run_http(
    service: Any,
    mcp_server: Any,
    settings: Settings,
    host: str | None = None,
    port: int | None = None,
    transport: str = "streamable-http",
    http: HttpSettings | None = None,
) -> None:
    """Serve until interrupted. Both MCP transports are always mounted; `transport` only picks
    the URL printed first, so one flag works for either kind of client."""
    import uvicorn

    host = host or settings.host
    port = settings.port if port is None else port  # --port 0: any free port (tests, side-by-side replicas)
    http = http or HttpSettings()
    check_bind(host, settings.auth_token)
    app = build_app(service, mcp_server, settings.model_copy(update={"host": host, "port": port}), http, host)
    shown = f"[{host}]" if ":" in host else host
    first, second = (SSE_PATH, MCP_PATH) if transport == "sse" else (MCP_PATH, SSE_PATH)
    print(
        f"faultmaven-runbooks: MCP at http://{shown}:{port}{first} (also {second}), REST at "
        f"http://{shown}:{port}/docs{'' if settings.auth_token else ' (no auth token: loopback only)'}",
        file=sys.stderr,
    )
    if not is_loopback(host) and not http.allowed_hosts:
        print(
            "faultmaven-runbooks: only loopback Host headers are accepted; set FAULTMAVEN_RUNBOOKS_ALLOWED_HOSTS "
            "to the name clients use (e.g. 'runbooks.internal:*')",
            file=sys.stderr,
        )
    uvicorn.run(
        app, host=host, port=port, log_level="info", server_header=False, access_log=http.access_log,
        limit_concurrency=http.max_connections, timeout_graceful_shutdown=5, timeout_keep_alive=30,
    )
