"""Alert webhooks: Alertmanager (v4, grouped, firing and resolved) and the n8n incident shape.

Each firing alert gets runbook suggestions; when the deployment turns it on, the best confident
runbook also starts a dry-run execution (never a real change: approvals stay with people).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...errors import InvalidInput, RunbookError
from .context import AppContext, ctx, status_of
from .responses import call, jsonable, ok, parse_body
from .schemas import AlertmanagerPayload, N8nIncident


def _suggest(c: AppContext, alert: dict, context: dict, dry_run: bool, limit: int, requester: str) -> dict:
    """Suggestions (and maybe a dry run) for one alert. Runs in a worker thread."""
    out: dict[str, Any] = {"suggestions": [], "execution": None}
    try:
        resp = c.service.suggest_similar(alert=alert, limit=limit)
    except RunbookError as exc:
        out["error"] = str(exc)
        return out
    c.metrics.inc("faultmaven_searches_total", entry="webhook")
    data = jsonable(resp)
    out.update(query=data.get("query"), suggestions=data.get("suggestions", []), message=data.get("message"))
    if dry_run and out["suggestions"]:
        best = out["suggestions"][0]["runbook"]
        if best.get("relevance_score", 0) < c.http.webhook_min_score:
            out["execution"] = {"skipped": f"best match scored {best.get('relevance_score')}, below {c.http.webhook_min_score}"}
        elif getattr(c.service, "executions", None) is None:
            out["execution"] = {"skipped": "executions are not available in this deployment"}
        else:
            out["execution"] = _dry_run(c, best["id"], context, requester)
    return out


def _dry_run(c: AppContext, runbook_id: str, context: dict, requester: str) -> dict:
    params = {"dry_run": True, "auto_execute": False}
    try:
        result = c.service.executions.execute(runbook_id, context, params, requester)
    except RunbookError as exc:
        c.metrics.inc("faultmaven_executions_total", outcome="refused", via="webhook")
        return {"runbook_id": runbook_id, "error": str(exc)}
    c.metrics.inc("faultmaven_executions_total", outcome=status_of(result), via="webhook")
    return jsonable(result)


def _exec_context(labels: dict[str, str], extra: dict | None = None) -> dict:
    # Labels fill runbook placeholders like {namespace} and {pod_name}.
    context = {k: v for k, v in labels.items() if v}
    if labels.get("pod"):
        context.setdefault("pod_name", labels["pod"])
    context.update(extra or {})
    return context


async def alertmanager(request: Request) -> Response:
    c = ctx(request)
    payload: AlertmanagerPayload = await parse_body(request, AlertmanagerPayload)
    if len(payload.alerts) > c.http.max_alerts_per_webhook:
        raise InvalidInput(
            f"{len(payload.alerts)} alerts in one notification; the limit is {c.http.max_alerts_per_webhook} "
            "(set max_alerts in the Alertmanager receiver)"
        )
    limit = c.http.webhook_suggestions
    requester = f"alertmanager:{payload.receiver or 'unknown'}"

    def process() -> list[dict]:
        seen: dict[tuple, dict] = {}
        results = []
        for alert in payload.alerts:
            labels = {**payload.commonLabels, **alert.labels}
            annotations = {**payload.commonAnnotations, **alert.annotations}
            name = labels["alertname"]
            c.metrics.inc("faultmaven_webhook_alerts_total", source="alertmanager", status=alert.status)
            item: dict[str, Any] = {
                "alertname": name,
                "status": alert.status,
                "fingerprint": alert.fingerprint,
                "severity": labels.get("severity"),
                "namespace": labels.get("namespace"),
                "starts_at": alert.startsAt,
            }
            if alert.status == "resolved":
                item.update(action="none: the alert is resolved", suggestions=[], execution=None)
                results.append(item)
                continue
            # Alerts in one group usually differ only by pod/instance: search once per kind.
            key = (name, labels.get("namespace"), annotations.get("summary"))
            if key not in seen:
                spec = {
                    "alertname": name,
                    "status": alert.status,
                    "severity": labels.get("severity"),
                    "labels": labels,
                    "annotations": annotations,
                    "summary": annotations.get("summary"),
                    "description": annotations.get("description"),
                }
                seen[key] = _suggest(c, spec, _exec_context(labels), c.http.webhook_dry_run, limit, requester)
                item.update(seen[key])
            else:
                shared = {k: v for k, v in seen[key].items() if k != "execution"}
                item.update(shared, execution={"skipped": "same alert kind already handled in this group"})
            results.append(item)
        return results

    results = await call(process)
    return ok(
        {
            "receiver": payload.receiver,
            "group_key": payload.groupKey,
            "status": payload.status,
            "received": len(payload.alerts),
            "firing": sum(1 for a in payload.alerts if a.status == "firing"),
            "resolved": sum(1 for a in payload.alerts if a.status == "resolved"),
            "truncated_alerts": payload.truncatedAlerts,
            "alerts": results,
        }
    )


async def n8n_incident(request: Request) -> Response:
    c = ctx(request)
    body: N8nIncident = await parse_body(request, N8nIncident)
    a = body.alert
    name = a.name or a.type
    if not (name or a.description):
        raise InvalidInput("alert needs at least 'type' (or 'name') or 'description'")
    labels = {**a.labels}
    for key, value in (("alertname", name), ("severity", a.severity), ("namespace", a.namespace)):
        if value:
            labels.setdefault(key, value)
    spec = {
        "alertname": name,
        "type": a.type,
        "status": "firing",
        "severity": a.severity,
        "labels": labels,
        "annotations": {"description": a.description} if a.description else {},
        "description": a.description,
        "namespace": a.namespace,
        "resource": a.resource,
    }
    dry_run = c.http.webhook_dry_run if body.dry_run is None else body.dry_run
    extra = {k: v for k, v in body.context.items() if isinstance(v, (str, int, float, bool))}
    if a.resource:
        extra.setdefault("resource", a.resource)
        extra.setdefault("pod_name", a.resource)
    c.metrics.inc("faultmaven_webhook_alerts_total", source="n8n", status="firing")
    result = await call(
        _suggest, c, spec, _exec_context(labels, extra), dry_run, body.limit or c.http.webhook_suggestions, "n8n"
    )
    return ok({"alert": jsonable(a), "context": body.context, **result})


ROUTES = [
    Route("/webhooks/alertmanager", alertmanager, methods=["POST"]),
    Route("/webhooks/n8n/incident", n8n_incident, methods=["POST"]),
]
