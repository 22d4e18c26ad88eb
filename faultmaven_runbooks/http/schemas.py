"""Request shapes for the REST API and webhooks. Pydantic does the checking; the error says the field."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..models import RunbookType, Severity

Name = Field(min_length=1, max_length=200)


class SearchQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    q: str = Field(min_length=1, max_length=1000, description="What you are looking for.")
    type: RunbookType | None = None
    severity: Severity | None = None
    tags: list[str] | None = Field(None, description="Comma-separated in the query string.")
    limit: int = Field(10, ge=1, le=50)
    status: Literal["verified", "draft", "deprecated"] | None = None


class ExecuteRequest(BaseModel):
    runbook_id: str = Name
    context: dict[str, Any] = Field(default_factory=dict)
    parameters: dict[str, Any] = Field(default_factory=dict)
    requester: str = Field("http-api", min_length=1, max_length=200)


class ApprovalRequest(BaseModel):
    approver: str = Field(min_length=1, max_length=200, description="Who decides: a person, not the requester.")
    reason: str | None = Field(None, max_length=2000)


class ExecutionsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int = Field(20, ge=1, le=500)
    runbook_id: str | None = Field(None, max_length=200)
    status: str | None = Field(None, max_length=50)


class RunbookWrite(BaseModel):
    """Create (title and content required) or update (any of the fields) a runbook."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(None, min_length=1, max_length=300)
    content: str | None = Field(None, min_length=1, max_length=500_000, description="Markdown.")
    type: RunbookType | None = None
    severity: Severity | None = None
    tags: list[str] | None = Field(None, max_length=50)
    metadata: dict[str, Any] | None = None
    # FaultMaven front-matter keys, accepted at the top level for convenience; stored as metadata.
    service: str | None = Field(None, max_length=200)
    domain: str | None = Field(None, max_length=200)
    status: str | None = Field(None, max_length=50)
    symptom_class: list[str] | None = Field(None, max_length=20)
    id: str | None = Field(None, max_length=120, description="Create only: the id to use (default: from the title).")
    folder: str | None = Field(None, max_length=300, description="Create only: folder under the library root.")
    author: str | None = Field(None, max_length=200)
    note: str | None = Field(None, max_length=2000, description="Update only: why it changed.")
    expected_version: int | None = Field(None, ge=1, description="Update only: refuse if the runbook moved on.")

    def metadata_with_extras(self) -> dict[str, Any] | None:
        extras = {k: getattr(self, k) for k in ("service", "domain", "status", "symptom_class") if getattr(self, k) is not None}
        if not extras and self.metadata is None:
            return None
        return {**(self.metadata or {}), **extras}


class LearnRequest(BaseModel):
    incident_data: dict[str, Any]
    context: dict[str, Any] = Field(default_factory=dict)


class CaseRunbookRequest(BaseModel):
    case: dict[str, Any]
    force: bool = False


class PageQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    section: str | None = Field(None, max_length=500)
    page: int = Field(1, ge=1, le=10_000)


# -- webhooks ------------------------------------------------------------------------------------
class AmAlert(BaseModel):
    """One Alertmanager alert (webhook version 4). Unknown fields are ignored."""

    status: Literal["firing", "resolved"] = "firing"
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: str | None = None
    endsAt: str | None = None
    generatorURL: str | None = None
    fingerprint: str | None = None

    @field_validator("labels")
    @classmethod
    def _needs_alertname(cls, labels: dict[str, str]) -> dict[str, str]:
        if not labels.get("alertname"):
            raise ValueError("every alert needs labels.alertname")
        return labels


class AlertmanagerPayload(BaseModel):
    version: str = Field(description="Alertmanager's webhook format version; only '4' exists.")
    status: Literal["firing", "resolved"]
    alerts: list[AmAlert] = Field(min_length=1)
    receiver: str | None = None
    groupKey: str | None = None
    groupLabels: dict[str, str] = Field(default_factory=dict)
    commonLabels: dict[str, str] = Field(default_factory=dict)
    commonAnnotations: dict[str, str] = Field(default_factory=dict)
    externalURL: str | None = None
    truncatedAlerts: int = 0

    @field_validator("version")
    @classmethod
    def _v4(cls, version: str) -> str:
        if version != "4":
            raise ValueError(f"unsupported Alertmanager webhook version {version!r}; this endpoint reads version 4")
        return version


class N8nAlert(BaseModel):
    type: str | None = Field(None, max_length=200)
    name: str | None = Field(None, max_length=200)
    severity: str | None = Field(None, max_length=50)
    namespace: str | None = Field(None, max_length=253)
    resource: str | None = Field(None, max_length=253)
    description: str | None = Field(None, max_length=5000)
    labels: dict[str, str] = Field(default_factory=dict)


class N8nIncident(BaseModel):
    alert: N8nAlert
    context: dict[str, Any] = Field(default_factory=dict)
    dry_run: bool | None = Field(None, description="Override the server's webhook dry-run setting for this call.")
    limit: int | None = Field(None, ge=1, le=10)
