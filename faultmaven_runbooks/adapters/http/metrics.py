"""Prometheus text exposition, kept in-process and dependency-free.

Counters and histograms are tiny and guarded by one lock; the labels are route templates (never
raw paths), so a client cannot blow up the series count by requesting random URLs.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from typing import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _labels(pairs: tuple[tuple[str, str], ...]) -> str:
    if not pairs:
        return ""
    esc = [(k, v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")) for k, v in pairs]
    return "{" + ",".join(f'{k}="{v}"' for k, v in esc) + "}"


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters: dict[str, dict[tuple, float]] = defaultdict(lambda: defaultdict(float))
        self._hist: dict[str, dict[tuple, list]] = defaultdict(dict)
        self._help: dict[str, tuple[str, str]] = {}
        self.started = time.time()

    def describe(self, name: str, kind: str, text: str) -> None:
        self._help[name] = (kind, text)

    def inc(self, name: str, amount: float = 1.0, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            self._counters[name][key] += amount

    def observe(self, name: str, value: float, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            slot = self._hist[name].setdefault(key, [[0] * len(BUCKETS), 0.0, 0])
            for i, bound in enumerate(BUCKETS):
                if value <= bound:
                    slot[0][i] += 1
            slot[1] += value
            slot[2] += 1

    def counter_value(self, name: str, **labels: str) -> float:
        with self._lock:
            return self._counters[name].get(tuple(sorted(labels.items())), 0.0)

    def render(self, gauges: dict[str, tuple[str, float]] | None = None) -> str:
        out: list[str] = []
        with self._lock:
            for name in sorted(self._counters):
                self._head(out, name, "counter")
                for key, value in sorted(self._counters[name].items()):
                    out.append(f"{name}{_labels(key)} {value:g}")
            for name in sorted(self._hist):
                self._head(out, name, "histogram")
                for key, (counts, total, n) in sorted(self._hist[name].items()):
                    for bound, c in zip(BUCKETS, counts, strict=True):
                        out.append(f"{name}_bucket{_labels(key + (('le', f'{bound:g}'),))} {c}")
                    out.append(f"{name}_bucket{_labels(key + (('le', '+Inf'),))} {n}")
                    out.append(f"{name}_sum{_labels(key)} {total:.6f}")
                    out.append(f"{name}_count{_labels(key)} {n}")
        for name, (text, value) in sorted((gauges or {}).items()):
            out.append(f"# HELP {name} {text}")
            out.append(f"# TYPE {name} gauge")
            out.append(f"{name} {value:g}")
        return "\n".join(out) + "\n"

    def _head(self, out: list[str], name: str, default_kind: str) -> None:
        kind, text = self._help.get(name, (default_kind, name))
        out.append(f"# HELP {name} {text}")
        out.append(f"# TYPE {name} {kind}")


def new_metrics() -> Metrics:
    m = Metrics()
    m.describe("faultmaven_http_requests_total", "counter", "HTTP requests by method, route and status.")
    m.describe("faultmaven_http_request_duration_seconds", "histogram", "HTTP request latency by route.")
    m.describe("faultmaven_searches_total", "counter", "Runbook searches by entry point.")
    m.describe("faultmaven_executions_total", "counter", "Runbook executions started over HTTP, by outcome.")
    m.describe("faultmaven_approvals_total", "counter", "Approval decisions made over HTTP.")
    m.describe("faultmaven_webhook_alerts_total", "counter", "Alerts received by webhook, by source and status.")
    return m


class MetricsMiddleware:
    """Counts and times every request by route template (outside the guard, so refused requests count too)."""

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
            self.metrics.inc(
                "faultmaven_http_requests_total", method=scope["method"], route=route, status=str(status["code"])
            )
            if route not in ("/sse",):  # SSE streams live for minutes; their duration is no latency.
                self.metrics.observe("faultmaven_http_request_duration_seconds", time.perf_counter() - start, route=route)
