"""Triage of incoming alerts: grouping, dedupe, labels to execution context, the dry-run decision,
and the record of each alert (records.py) that re-sends update and people are told about.

Each firing alert gets runbook suggestions; when the deployment turns it on (WEBHOOK_DRY_RUN),
the best confident runbook also starts a dry-run execution: never a real change, approvals stay
with people. Alerts of one Alertmanager group that differ only by pod or instance are searched
once. Alertmanager re-sends a group every group_interval: a re-send counts on the alert's record
and answers from it (no new search, no second dry run, nobody told twice).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from ..api.alerts import AlertmanagerPayload, AlertmanagerTriage, AlertTriage, AmAlert, N8nIncident, N8nTriage
from ..api.search import Alert, SuggestRequest
from ..errors import InvalidInput, RunbookError
from ..models import SuggestResponse
from ..settings import AlertSettings
from ..storage.triage import TriageRecord
from .records import Keeper, Notify, Records, bounded, derived_fingerprint, time_of

Suggest = Callable[[SuggestRequest], SuggestResponse]
# runbook id, execution context, requester -> the execution as JSON data
DryRun = Callable[[str, dict[str, Any], str], dict[str, Any]]
SAME_KIND = "same alert kind already handled in this group"
RESENT = "a re-send of this alert: the suggestions of its first send"


def execution_context(labels: dict[str, str], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Labels fill runbook placeholders like {namespace}; `pod` also fills {pod_name}."""
    context: dict[str, Any] = {k: v for k, v in labels.items() if v}
    if labels.get("pod"):
        context.setdefault("pod_name", labels["pod"])
    context.update(extra or {})
    return context


class Triage:
    def __init__(self, settings: AlertSettings, suggest: Suggest, dry_run: DryRun | None,
                 records: Records | None = None, notify: Notify | None = None):
        self.settings = settings
        self.suggest = suggest
        self.dry_run = dry_run  # None: executions are not available in this deployment
        self.keeper = Keeper(records, notify)

    def alertmanager(self, payload: AlertmanagerPayload) -> AlertmanagerTriage:
        if len(payload.alerts) > self.settings.max_alerts_per_webhook:
            raise InvalidInput(
                f"{len(payload.alerts)} alerts in one notification; the limit is "
                f"{self.settings.max_alerts_per_webhook} (set max_alerts in the Alertmanager receiver)")
        requester = f"alertmanager:{payload.receiver or 'unknown'}"
        seen: dict[tuple, AlertTriage] = {}
        results = [self._alertmanager_alert(payload, alert, seen, requester) for alert in payload.alerts]
        return AlertmanagerTriage(
            receiver=payload.receiver, group_key=payload.groupKey, status=payload.status,
            received=len(payload.alerts), firing=sum(a.status == "firing" for a in payload.alerts),
            resolved=sum(a.status == "resolved" for a in payload.alerts), truncated_alerts=payload.truncatedAlerts,
            alerts=results)

    def _alertmanager_alert(self, payload: AlertmanagerPayload, alert: AmAlert, seen: dict[tuple, AlertTriage],
                            requester: str) -> AlertTriage:
        labels, annotations, warnings = bounded({**payload.commonLabels, **alert.labels},
                                                {**payload.commonAnnotations, **alert.annotations})
        name = labels["alertname"]
        fingerprint = alert.fingerprint or derived_fingerprint(name, labels)
        head = AlertTriage(alertname=name, status=alert.status, fingerprint=fingerprint,
                           severity=labels.get("severity"), namespace=labels.get("namespace"),
                           starts_at=alert.startsAt, warnings=warnings)
        if alert.status == "resolved":
            closed = self._resolve(fingerprint, time_of(alert.endsAt), alert.generatorURL)
            return head.model_copy(update={"action": "none: the alert is resolved" + closed})
        record = self.keeper.fire(fingerprint, name, labels, annotations, "alertmanager", time_of(alert.startsAt))
        head = head.model_copy(update={"times_sent": record.count if record else None})
        if record is not None and not record.opened and record.suggested_runbooks:
            return self._resent(head, record)
        key = (name, labels.get("namespace"), annotations.get("summary"))
        if key in seen:
            shared = seen[key].model_dump(include={"query", "suggestions", "message", "error"})
            done = head.model_copy(update={**shared, "shared": True, "execution": {"skipped": SAME_KIND}})
        else:
            spec = Alert(name=name, labels=labels, annotations=annotations, status=alert.status,
                         severity=labels.get("severity"), summary=annotations.get("summary"),
                         description=annotations.get("description"))
            done = seen[key] = self._triage(head, spec, execution_context(labels), self.settings.webhook_dry_run,
                                            self.settings.webhook_suggestions, requester)
        self._keep(record, done, alert.generatorURL)
        return done

    def n8n(self, incident: N8nIncident) -> N8nTriage:
        a = incident.alert
        name = a.name or a.type or "alert"
        labels = dict(a.labels)
        for key, value in (("alertname", name), ("severity", a.severity), ("namespace", a.namespace),
                           ("resource", a.resource)):
            if value:
                labels.setdefault(key, value)
        notes = {"description": a.description} if a.description else {}
        labels, notes, warnings = bounded(labels, notes)
        # Severity is not identity: a resolve that leaves it out closes the same record.
        fingerprint = derived_fingerprint(name, {k: v for k, v in labels.items() if k != "severity"})
        head = N8nTriage(alertname=name, status=a.status, fingerprint=fingerprint, severity=a.severity,
                         namespace=a.namespace, alert=a, context=incident.context, warnings=warnings)
        if a.status == "resolved":
            return head.model_copy(update={"action": "none: the alert is resolved" + self._resolve(fingerprint)})
        record = self.keeper.fire(fingerprint, name, labels, notes, "n8n", None)
        head = head.model_copy(update={"times_sent": record.count if record else None})
        if record is not None and not record.opened and record.suggested_runbooks:
            return self._resent(head, record)
        spec = Alert(name=name, labels=labels, annotations=notes, type=a.type, status="firing", severity=a.severity,
                     description=a.description, namespace=a.namespace, resource=a.resource)
        extra = {k: v for k, v in incident.context.items() if isinstance(v, (str, int, float, bool))}
        if a.resource:
            extra.setdefault("resource", a.resource)
            extra.setdefault("pod_name", a.resource)
        dry_run = self.settings.webhook_dry_run if incident.dry_run is None else incident.dry_run
        done = self._triage(head, spec, execution_context(labels, extra), dry_run,
                            incident.limit or self.settings.webhook_suggestions, "n8n")
        self._keep(record, done, None)
        return done

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
            start = self.dry_run

            def run() -> dict[str, Any]:
                try:
                    return start(best.id, context, requester)
                except RunbookError as exc:
                    return {"runbook_id": best.id, "error": str(exc)}

            execution = self.keeper.dry_run_once(head.fingerprint, run)
        return done.model_copy(update={"execution": execution})

    def _keep(self, record: TriageRecord | None, done: AlertTriage, generator_url: str | None) -> None:
        """Store what triage found; on the first send of an episode, tell people."""
        if record is None or done.error is not None:
            return
        self.keeper.suggested(record, done.suggestions)
        if record.opened and self.keeper.records is not None:
            stored = self.keeper.records.get(record.fingerprint)
            if stored is not None:
                self.keeper.tell("new", stored, generator_url=generator_url)

    def _resent(self, head: Any, record: TriageRecord) -> Any:
        started = record.dry_run_started
        execution = {"execution_id": started, "note": "started by an earlier send of this alert"} if started else None
        return head.model_copy(update={"suggestions": record.suggested_runbooks, "message": RESENT,
                                       "execution": execution})

    def _resolve(self, fingerprint: str, ends_at: dt.datetime | None = None, generator_url: str | None = None) -> str:
        closed = self.keeper.resolve(fingerprint, ends_at)
        if closed is None:
            return ""
        self.keeper.tell("resolved", closed, generator_url=generator_url, ends_at=ends_at or closed.resolved_at)
        return f"; its record is closed after {closed.resolution_seconds:.0f}s"
