"""Triage of incoming alerts: grouping, dedupe, labels to execution context, the dry-run decision.

Each firing alert gets runbook suggestions; when the deployment turns it on (WEBHOOK_DRY_RUN),
the best confident runbook also starts a dry-run execution: never a real change, approvals stay
with people. Alerts of one Alertmanager group that differ only by pod or instance are searched
once. A later step builds triage records and notifications on what this module decides.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..api.alerts import AlertmanagerPayload, AlertmanagerTriage, AlertTriage, N8nIncident, N8nTriage
from ..api.search import Alert, SuggestRequest
from ..errors import InvalidInput, RunbookError
from ..models import SuggestResponse
from ..settings import AlertSettings

Suggest = Callable[[SuggestRequest], SuggestResponse]
# runbook id, execution context, requester -> the execution as JSON data
DryRun = Callable[[str, dict[str, Any], str], dict[str, Any]]
SAME_KIND = "same alert kind already handled in this group"


def execution_context(labels: dict[str, str], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Labels fill runbook placeholders like {namespace}; `pod` also fills {pod_name}."""
    context: dict[str, Any] = {k: v for k, v in labels.items() if v}
    if labels.get("pod"):
        context.setdefault("pod_name", labels["pod"])
    context.update(extra or {})
    return context


class Triage:
    def __init__(self, settings: AlertSettings, suggest: Suggest, dry_run: DryRun | None):
        self.settings = settings
        self.suggest = suggest
        self.dry_run = dry_run  # None: executions are not available in this deployment

    def alertmanager(self, payload: AlertmanagerPayload) -> AlertmanagerTriage:
        if len(payload.alerts) > self.settings.max_alerts_per_webhook:
            raise InvalidInput(
                f"{len(payload.alerts)} alerts in one notification; the limit is "
                f"{self.settings.max_alerts_per_webhook} (set max_alerts in the Alertmanager receiver)")
        requester = f"alertmanager:{payload.receiver or 'unknown'}"
        seen: dict[tuple, AlertTriage] = {}
        results = []
        for alert in payload.alerts:
            labels = {**payload.commonLabels, **alert.labels}
            annotations = {**payload.commonAnnotations, **alert.annotations}
            head = AlertTriage(alertname=labels["alertname"], status=alert.status, fingerprint=alert.fingerprint,
                               severity=labels.get("severity"), namespace=labels.get("namespace"),
                               starts_at=alert.startsAt)
            if alert.status == "resolved":
                results.append(head.model_copy(update={"action": "none: the alert is resolved"}))
                continue
            key = (labels["alertname"], labels.get("namespace"), annotations.get("summary"))
            if key in seen:
                shared = seen[key].model_dump(include={"query", "suggestions", "message", "error"})
                results.append(head.model_copy(update={**shared, "shared": True, "execution": {"skipped": SAME_KIND}}))
                continue
            spec = Alert(name=labels["alertname"], labels=labels, annotations=annotations, status=alert.status,
                         severity=labels.get("severity"), summary=annotations.get("summary"),
                         description=annotations.get("description"))
            seen[key] = self._triage(head, spec, execution_context(labels), self.settings.webhook_dry_run,
                                     self.settings.webhook_suggestions, requester)
            results.append(seen[key])
        return AlertmanagerTriage(
            receiver=payload.receiver, group_key=payload.groupKey, status=payload.status,
            received=len(payload.alerts), firing=sum(a.status == "firing" for a in payload.alerts),
            resolved=sum(a.status == "resolved" for a in payload.alerts), truncated_alerts=payload.truncatedAlerts,
            alerts=results)

    def n8n(self, incident: N8nIncident) -> N8nTriage:
        a = incident.alert
        name = a.name or a.type
        labels = dict(a.labels)
        for key, value in (("alertname", name), ("severity", a.severity), ("namespace", a.namespace)):
            if value:
                labels.setdefault(key, value)
        spec = Alert(name=name, labels=labels, annotations={"description": a.description} if a.description else {},
                     type=a.type, status="firing", severity=a.severity, description=a.description,
                     namespace=a.namespace, resource=a.resource)
        extra = {k: v for k, v in incident.context.items() if isinstance(v, (str, int, float, bool))}
        if a.resource:
            extra.setdefault("resource", a.resource)
            extra.setdefault("pod_name", a.resource)
        dry_run = self.settings.webhook_dry_run if incident.dry_run is None else incident.dry_run
        head = N8nTriage(alertname=name, severity=a.severity, namespace=a.namespace, alert=a, context=incident.context)
        return self._triage(head, spec, execution_context(labels, extra), dry_run,
                            incident.limit or self.settings.webhook_suggestions, "n8n")

    def _triage(self, head: Any, alert: Alert, context: dict[str, Any], dry_run: bool, limit: int,
                requester: str) -> Any:
        """Suggestions for one alert, and the dry run of the best one when asked and confident enough."""
        try:
            found = self.suggest(SuggestRequest(alert=alert, limit=limit))
        except RunbookError as exc:
            return head.model_copy(update={"error": str(exc)})
        suggestions = [s.model_dump(mode="json") for s in found.suggestions]
        done = head.model_copy(update={"query": found.query, "suggestions": suggestions, "message": found.message})
        if not (dry_run and found.suggestions):
            return done
        best = found.suggestions[0].runbook
        if best.relevance_score < self.settings.webhook_min_score:
            floor = self.settings.webhook_min_score
            execution = {"skipped": f"best match scored {best.relevance_score}, below {floor}"}
        elif self.dry_run is None:
            execution = {"skipped": "executions are not available in this deployment"}
        else:
            try:
                execution = self.dry_run(best.id, context, requester)
            except RunbookError as exc:
                execution = {"runbook_id": best.id, "error": str(exc)}
        return done.model_copy(update={"execution": execution})
