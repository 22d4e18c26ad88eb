"""Counts and times every HTTP request by route template (never raw paths: a client cannot
blow up the series count by requesting random URLs)."""

from __future__ import annotations

import time
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..metrics import Metrics

UNTIMED = ("/sse",)  # SSE streams live for minutes; their duration is no latency


class MetricsMiddleware:
    """Outside the guard, so refused requests count too."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics, route_of: Callable[[Scope], str]):
        self.app = app
        self.metrics = metrics
        self.route_of = route_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = {"code": 500}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = self.route_of(scope)
            self.metrics.http_requests.labels(method=scope["method"], route=route, status=str(status["code"])).inc()
            if route not in UNTIMED:
                self.metrics.http_latency.labels(route=route).observe(time.perf_counter() - start)
