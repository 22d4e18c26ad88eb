"""One FastAPI app: the REST API, the webhooks, /metrics, the docs, and MCP over streamable HTTP
and SSE (the SDK's Starlette routes, mounted as they are)."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import Scope

from ... import __version__
from ...memory import freeze_start_up_objects
from ...read_only import ReadOnlyService
from ...settings import HttpSettings, Settings
from ..mcp.transport import RefuseBatches
from ..metrics import CONTENT_TYPE, Metrics
from ..ui.app import build_console
from ..ui.links import PREFIX as CONSOLE_PATH
from . import docs, routes_alerts, routes_api_v1, routes_executions, routes_ops, routes_runbooks, routes_webhooks
from .context import AppContext, ctx
from .metrics import MetricsMiddleware
from .responses import ERRORS, EXCEPTION_HANDLERS, call
from .security import Allowlist, GuardMiddleware, is_loopback

MCP_PATH = "/mcp"
SSE_PATH = "/sse"
SSE_MESSAGES = "/messages/"
MIN_PUBLIC_TOKEN_LEN = 16
# Order matters: the executions' fixed paths and the ops routes come before /runbooks/{runbook_id}.
ROUTERS = (routes_executions, routes_ops, routes_runbooks, routes_api_v1, routes_webhooks, routes_alerts)
DESCRIPTION = ("Runbook search, execution, learning and authoring. Send `Authorization: Bearer <token>` on every "
               "call but health. MCP clients: streamable HTTP at /mcp, SSE at /sse.")


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
        raise UnsafeBind(f"the auth token is too short to expose on {host}: use at least {MIN_PUBLIC_TOKEN_LEN} "
                         "characters")


def _health_gauges(service: Any, metrics: Metrics):
    def read() -> dict[str, tuple[str, float]]:
        out = {"faultmaven_uptime_seconds": ("Seconds since the app started.", time.time() - metrics.started)}
        try:
            health = service.health()
        except Exception:  # a broken index shows up as a missing gauge and up=0, not a failed scrape
            out["faultmaven_index_up"] = ("1 when the search index answers health checks.", 0)
            return out
        out["faultmaven_index_up"] = ("1 when the search index answers health checks.", 1)
        for key, value in _numbers(health):
            out[f"faultmaven_index_{key}"] = (f"Search index: {key.replace('_', ' ')}.", value)
        return out

    return read


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


def _route_namer(routes: list[BaseRoute], prefixes: tuple[str, ...]):
    """Route template for a request, matched by path alone and in the router's order, so refused
    requests (401, 421, 405) are labelled too: a bounded label set, whatever paths clients invent.
    Read off the routes themselves: building the OpenAPI document for it cost a fresh app about
    0.3 s of CPU on its first request."""
    templates = [(route.path_regex, route.path) for route in routes if isinstance(route, Route)]

    def route_of(scope: Scope) -> str:
        path = scope.get("path", "")
        for regex, template in templates:
            if regex.match(path):
                return template
        return next((p.rstrip("/") for p in prefixes if path.startswith(p)), "unmatched")

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
    routes: list[BaseRoute] = [r for r in [*streamable.routes, *sse.routes]
                               if isinstance(r, (Route, Mount)) and r.path in wanted]
    return routes, session_manager


def build_app(service: Any, mcp_server: Any, settings: Settings, *, metrics: Metrics | None = None,
              read_only: bool = False, bind_host: str | None = None) -> FastAPI:
    """The whole HTTP surface. `mcp_server` may be None to serve the REST API alone; give it the
    same `metrics` so /metrics counts its tool calls. `read_only` refuses every write."""
    http = settings.http
    bind_host = bind_host or http.host
    check_bind(bind_host, http.auth_token)
    allow = Allowlist(bind_host, http)
    metrics = metrics or Metrics()
    session_manager = None
    mcp_routes: list[BaseRoute] = []
    if mcp_server is not None:
        mcp_routes, session_manager = _mcp_routes(mcp_server, allow, http)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The streamable HTTP session manager owns a task group; it must run for the app's life.
        if session_manager is None:
            yield
            return
        async with session_manager.run():
            yield

    app = FastAPI(title="FaultMaven runbooks", version=__version__, description=DESCRIPTION, lifespan=lifespan,
                  docs_url=None, redoc_url=None, openapi_url="/openapi.json", strict_content_type=False,
                  exception_handlers=EXCEPTION_HANDLERS)
    for router in ROUTERS:
        app.include_router(router.router)

    @app.get("/metrics", tags=["operations"], summary="Prometheus metrics", response_model=None,
             responses={**ERRORS, 200: {"description": "Prometheus text exposition",
                                        "content": {CONTENT_TYPE: {"schema": {"type": "string"}}}}})
    async def metrics_endpoint(request: Request) -> Response:
        return Response(await call(ctx(request).metrics.render), media_type=CONTENT_TYPE)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> PlainTextResponse:
        return PlainTextResponse("ok")

    docs.install(app)
    app.router.routes.extend(mcp_routes)
    served = ReadOnlyService(service) if read_only else service
    if settings.ui.console:  # the console's own pages, signed in with a session cookie instead of a bearer token
        app.mount(CONSOLE_PATH, build_console(served, settings, metrics))
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    metrics.gauges(_health_gauges(service, metrics))
    app.add_middleware(RefuseBatches, paths=(MCP_PATH, SSE_MESSAGES))
    app.add_middleware(GuardMiddleware, allow=allow, auth_token=http.auth_token, max_body=http.max_body_bytes,
                       session_paths=(CONSOLE_PATH,) if settings.ui.console else ())
    # Outermost: refused requests are counted too.
    app.add_middleware(MetricsMiddleware, metrics=metrics,
                       route_of=_route_namer([*(r for m in ROUTERS for r in m.router.routes), *app.routes],
                                             (SSE_MESSAGES, docs.ASSETS, f"{CONSOLE_PATH}/")))
    app.state.ctx = AppContext(service=served, settings=settings, metrics=metrics)
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, built once, with bearer auth declared and its 422 replaced by our 400."""
    if app.openapi_schema is None:
        doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        for methods in doc.get("paths", {}).values():
            for op in methods.values():
                op.get("responses", {}).pop("422", None)
        doc["paths"]["/metrics"]["get"]["responses"]["200"]["content"].pop("application/json", None)  # text only
        schemas = doc.get("components", {}).get("schemas", {})
        for unused in ("HTTPValidationError", "ValidationError"):
            schemas.pop(unused, None)
        doc.setdefault("components", {})["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
        doc["security"] = [{"bearer": []}]
        app.openapi_schema = doc
    return app.openapi_schema


def run_http(service: Any, mcp_server: Any, settings: Settings, *, transport: str = "streamable-http",
             metrics: Metrics | None = None, read_only: bool = False) -> None:
    """Serve until interrupted. Both MCP transports are always mounted; `transport` only picks
    the URL printed first, so one flag works for either kind of client."""
    import uvicorn

    http = settings.http
    host, port = http.host, http.port
    check_bind(host, http.auth_token)
    app = build_app(service, mcp_server, settings, metrics=metrics, read_only=read_only)
    freeze_start_up_objects()
    shown = f"[{host}]" if ":" in host else host
    first, second = (SSE_PATH, MCP_PATH) if transport == "sse" else (MCP_PATH, SSE_PATH)
    print(
        f"faultmaven-runbooks: MCP at http://{shown}:{port}{first} (also {second}), REST at "
        f"http://{shown}:{port}/docs{'' if http.auth_token else ' (no auth token: loopback only)'}"
        + (f", console at http://{shown}:{port}{CONSOLE_PATH}/" if settings.ui.console else ""),
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
