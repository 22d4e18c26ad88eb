"""Alert webhooks: Alertmanager (v4, grouped, firing and resolved) and the n8n incident shape.

The triage itself (grouping, dedupe, labels to context, the dry-run decision) is alerts/triage.py;
here the notification is read, handed to the service, and counted. A read-only server answers
with suggestions but keeps no triage record and tells nobody (it writes nothing).
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from ...api.alerts import AlertmanagerPayload, AlertmanagerTriage, AlertTriage, N8nIncident, N8nTriage
from ..metrics import Metrics
from .body import CheckedJsonRoute
from .context import ctx
from .responses import ERRORS, call

router = APIRouter(route_class=CheckedJsonRoute, responses=ERRORS, tags=["webhooks"])


def _count(metrics: Metrics, source: str, found: AlertTriage) -> None:
    metrics.webhook_alerts.labels(source=source, status=found.status).inc()
    if found.query is not None and not found.shared:
        metrics.found("webhook", [s["runbook"]["id"] for s in found.suggestions])
    run = found.execution or {}
    if "status" in run or "error" in run:
        metrics.ran("webhook", run.get("runbook_id"), run.get("outcome", "refused"))


def _records(service: object) -> bool:
    return not getattr(service, "read_only", False)


@router.post("/webhooks/alertmanager", summary="Alertmanager webhook (v4): suggestions per firing alert")
async def alertmanager(request: Request, body: AlertmanagerPayload) -> AlertmanagerTriage:
    c = ctx(request)
    result = await call(c.service.triage_alertmanager, body, record=_records(c.service))
    for found in result.alerts:
        _count(c.metrics, "alertmanager", found)
    return result


@router.post("/webhooks/n8n/incident", summary="n8n incident webhook: suggestions, and a dry run when enabled")
async def n8n_incident(request: Request, body: N8nIncident) -> N8nTriage:
    c = ctx(request)
    result = await call(c.service.triage_n8n, body, record=_records(c.service))
    _count(c.metrics, "n8n", result)
    return result
