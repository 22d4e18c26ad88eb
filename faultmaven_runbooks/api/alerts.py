"""Alerts in: Alertmanager's webhook (version 4) and the n8n incident shape, and what triage answers."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, field_validator

from .base import Cursor, PageRequest, Request


class AmAlert(BaseModel):
    """One Alertmanager alert (webhook version 4). Unknown fields are ignored."""

    status: Literal["firing", "resolved"] = "firing"
    labels: dict[str, str] = Field(
        default_factory=dict, validate_default=True,
        json_schema_extra={"required": ["alertname"], "properties": {"alertname": {"type": "string", "minLength": 1}}})
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: str | None = None
    endsAt: str | None = None
    generatorURL: str | None = None
    fingerprint: str | None = Field(None, min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$",
                                    description="Alertmanager's fingerprint (printable ASCII, no spaces); "
                                    "when absent one is derived from alertname and labels.")

    @field_validator("labels")
    @classmethod
    def _needs_alertname(cls, labels: dict[str, str]) -> dict[str, str]:
        if not labels.get("alertname"):
            raise ValueError("every alert needs labels.alertname")
        return labels


class AlertmanagerPayload(BaseModel):
    """Alertmanager's notification; unknown fields are ignored (newer Alertmanagers add some)."""

    version: str = Field(description="Alertmanager's webhook format version; only '4' exists.",
                         json_schema_extra={"enum": ["4"]})
    status: Literal["firing", "resolved"]
    alerts: list[AmAlert] = Field(min_length=1)
    receiver: str | None = None
    groupKey: str | None = None
    groupLabels: dict[str, str] = Field(default_factory=dict)
    commonLabels: dict[str, str] = Field(default_factory=dict)
    commonAnnotations: dict[str, str] = Field(default_factory=dict)
    externalURL: str | None = None
    truncatedAlerts: StrictInt = Field(0, ge=0)

    @field_validator("version")
    @classmethod
    def _v4(cls, version: str) -> str:
        if version != "4":
            raise ValueError(f"unsupported Alertmanager webhook version {version!r}; this endpoint reads version 4")
        return version


class N8nAlert(BaseModel):
    # Something to search with: a type, a name or a description.
    model_config = ConfigDict(json_schema_extra={"anyOf": [{"required": [k], "properties": {k: {"minLength": 1}}}
                                                           for k in ("type", "name", "description")]})

    type: str | None = Field(None, max_length=200)
    name: str | None = Field(None, max_length=200)
    severity: str | None = Field(None, max_length=50)
    namespace: str | None = Field(None, max_length=253)
    resource: str | None = Field(None, max_length=253)
    description: str | None = Field(None, max_length=5000)
    labels: dict[str, str] = Field(default_factory=dict)
    status: Literal["firing", "resolved"] = Field(
        "firing", description="'resolved' closes the alert's triage record (same name, namespace, resource, labels).")


class N8nIncident(Request):
    alert: N8nAlert
    context: dict[str, Any] = Field(default_factory=dict)
    dry_run: StrictBool | None = Field(None, description="Override the server's webhook dry-run setting for this call.")
    limit: StrictInt | None = Field(None, ge=1, le=10)

    @field_validator("alert")
    @classmethod
    def _something_to_search(cls, alert: N8nAlert) -> N8nAlert:
        if not (alert.name or alert.type or alert.description):
            raise ValueError("alert needs at least 'type' (or 'name') or 'description'")
        return alert


class AlertTriage(BaseModel):
    """What was found for one alert: runbook suggestions and, when enabled, a dry run."""

    alertname: str | None = None
    status: Literal["firing", "resolved"] = "firing"
    fingerprint: str | None = None
    severity: str | None = None
    namespace: str | None = None
    starts_at: str | None = None
    action: str | None = Field(None, description="Why nothing was done, for a resolved alert.")
    query: str | None = Field(None, description="The search text built from the alert.")
    suggestions: list[dict[str, Any]] = Field(default_factory=list)
    message: str | None = None
    error: str | None = Field(None, description="Why no runbook could be suggested.")
    shared: bool = Field(False, description="Same kind as an earlier alert of this notification: its suggestions.")
    execution: dict[str, Any] | None = Field(None, description="The dry run, or why it was skipped.")
    times_sent: int | None = Field(None, description="Sends of this alert in this episode (1: first); "
                                   "re-sends reuse the first answer's suggestions and dry run.")
    warnings: list[str] = Field(default_factory=list, description="What was cut from an oversized alert.")


class AlertmanagerTriage(BaseModel):
    receiver: str | None
    group_key: str | None
    status: Literal["firing", "resolved"]
    received: int
    firing: int
    resolved: int
    truncated_alerts: int
    alerts: list[AlertTriage]


class N8nTriage(AlertTriage):
    alert: N8nAlert
    context: dict[str, Any]


# -- reading triage records (MCP list_alerts / get_triage, REST /alerts) --------------------------
AlertStatus = Literal["firing", "resolved"]


class ListAlertsRequest(PageRequest):
    status: AlertStatus | None = None


class GetTriageRequest(Request):
    fingerprint: str = Field(min_length=1, max_length=200)  # from list_alerts or a webhook's answer


class TriageSummary(BaseModel):
    """One alert's triage record, as a list shows it."""

    fingerprint: str
    alertname: str | None = None
    source: str | None = Field(None, description="alertmanager or n8n.")
    status: AlertStatus
    severity: str | None = None
    namespace: str | None = None
    first_seen: str = Field(description="When this episode was first received.")
    last_seen: str
    times_sent: int
    runbook_id: str | None = Field(None, description="The best runbook suggested.")
    dry_run_execution_id: str | None = None
    resolved_at: str | None = None
    resolution_seconds: float | None = None
    runbook_used: bool | None = Field(None, description="Resolved with a runbook's execution (its dry run) or not.")


class TriageDetail(TriageSummary):
    """Everything recorded for one alert: pick up where the webhook left off."""

    starts_at: str | None = Field(None, description="When the sender says this firing began.")
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    suggestions: list[dict[str, Any]] = Field(default_factory=list,
                                              description="Runbooks suggested, best first, each with why it matched.")


class AlertList(BaseModel):
    alerts: list[TriageSummary]
    next_cursor: Cursor = None
