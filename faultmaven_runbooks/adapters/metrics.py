"""Prometheus metrics (prometheus-client) for both adapters: HTTP requests, MCP tool calls (on
every transport), searches, executions, approvals, webhook alerts, and per-runbook counters.

One registry per server, so tests and several apps in one process never share series. Labels
are bounded: routes are templates (never raw paths), tools and outcomes come from fixed sets,
and runbook ids from the library.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, GCCollector, Histogram, ProcessCollector, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _Gauges(Collector):
    """Gauges read at scrape time from a callable (the service's health report)."""

    def __init__(self, read: Callable[[], dict[str, tuple[str, float]]]):
        self.read = read

    def collect(self) -> Iterable[Metric]:
        for name, (text, value) in sorted(self.read().items()):
            yield GaugeMetricFamily(name, text, value=value)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.started = time.time()
        r = self.registry
        self.http_requests = Counter("faultmaven_http_requests", "HTTP requests by method, route and status.",
                                     ["method", "route", "status"], registry=r)
        self.http_latency = Histogram("faultmaven_http_request_duration_seconds", "HTTP request latency by route.",
                                      ["route"], registry=r)
        self.tool_calls = Counter("faultmaven_tool_calls", "MCP tool calls by tool and outcome (ok or error).",
                                  ["tool", "outcome"], registry=r)
        self.tool_latency = Histogram("faultmaven_tool_call_duration_seconds", "MCP tool call latency by tool.",
                                      ["tool"], registry=r)
        self.searches = Counter("faultmaven_searches", "Runbook searches by entry point.", ["entry"], registry=r)
        self.executions = Counter("faultmaven_executions", "Runbook executions started, by outcome and entry point.",
                                  ["outcome", "via"], registry=r)
        self.approvals = Counter("faultmaven_approvals", "Approval decisions made over HTTP.", ["decision"], registry=r)
        self.webhook_alerts = Counter("faultmaven_webhook_alerts", "Alerts received by webhook, by source and status.",
                                      ["source", "status"], registry=r)
        self.runbook_hits = Counter("faultmaven_runbook_retrievals", "Times a runbook was shown in search results "
                                    "or suggestions, by runbook.", ["runbook_id"], registry=r)
        self.runbook_reads = Counter("faultmaven_runbook_reads", "Times a runbook was read, by runbook.",
                                     ["runbook_id"], registry=r)
        self.runbook_runs = Counter("faultmaven_runbook_executions", "Executions by runbook and outcome.",
                                    ["runbook_id", "outcome"], registry=r)
        # The process itself, as prometheus-client's default registry shows it: CPU, memory, open
        # files (process_*) and the garbage collector's work (python_gc_*; a served process pauses
        # the collector while it starts, memory.pause_collector, and these show it running after).
        ProcessCollector(registry=r)
        GCCollector(registry=r)

    def gauges(self, read: Callable[[], dict[str, tuple[str, float]]]) -> None:
        """Add gauges computed on every scrape."""
        self.registry.register(_Gauges(read))

    def render(self) -> bytes:
        return generate_latest(self.registry)

    # -- what a use case's answer says about runbooks ----------------------------------------
    def found(self, entry: str, runbook_ids: Iterable[str]) -> None:
        self.searches.labels(entry=entry).inc()
        for rid in runbook_ids:
            self.runbook_hits.labels(runbook_id=rid).inc()

    def ran(self, via: str, runbook_id: str | None, outcome: str) -> None:
        self.executions.labels(outcome=outcome, via=via).inc()
        if runbook_id:
            self.runbook_runs.labels(runbook_id=runbook_id, outcome=outcome).inc()


def runbooks_of(tool: str, content: Any) -> tuple[str, list[str]]:
    """What an MCP tool's structured answer says about runbooks: ("found", ids), ("read", [id]),
    ("ran:<outcome>", [id]) or ("", [])."""
    if not isinstance(content, dict):
        return "", []
    if tool == "search":
        return "found", [h["id"] for h in content.get("results", []) if isinstance(h, dict) and "id" in h]
    if tool == "suggest_similar":
        return "found", [s["runbook"]["id"] for s in content.get("suggestions", [])
                         if isinstance(s, dict) and isinstance(s.get("runbook"), dict) and "id" in s["runbook"]]
    if tool == "get_runbook" and isinstance(content.get("id"), str):
        return "read", [content["id"]]
    if tool == "execute" and isinstance(content.get("runbook_id"), str):
        return f"ran:{content.get('outcome', 'unknown')}", [content["runbook_id"]]
    return "", []
