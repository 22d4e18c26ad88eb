"""Writing runbooks: create, update, history, diff, and a runbook from a resolved case."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, StrictBool, StrictInt, model_validator

from ..models import RunbookType, Severity
from .base import PageRequest, Request
from .search import Case

RunbookId = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9-]*$")]
Tag = Annotated[str, Field(max_length=50)]
MAX_CONTENT = 500_000
# FaultMaven front-matter keys a client may send at the top level; they are stored as metadata.
FRONT_MATTER_KEYS = ("service", "domain", "status", "symptom_class")


class _FrontMatter(Request):
    tags: list[Tag] | None = Field(None, max_length=30)
    service: str | None = Field(None, max_length=200)
    domain: str | None = Field(None, max_length=200)
    status: str | None = Field(None, max_length=50)
    symptom_class: list[str] | None = Field(None, max_length=20)
    author: str | None = Field(None, max_length=200)

    def front_matter(self) -> dict[str, Any] | None:
        """`metadata` with the top-level FaultMaven keys folded in (None: nothing to change)."""
        metadata: dict[str, Any] | None = getattr(self, "metadata", None)
        extras = {k: getattr(self, k) for k in FRONT_MATTER_KEYS if getattr(self, k) is not None}
        if not extras and metadata is None:
            return None
        return {**(metadata or {}), **extras}


class CreateRunbookRequest(_FrontMatter):
    title: str = Field(min_length=3, max_length=200)
    content: str = Field(min_length=20, max_length=MAX_CONTENT, description="Markdown body.")
    type: RunbookType = "dynamic"
    severity: Severity = "medium"
    metadata: dict[str, Any] | None = Field(None, description="Extra front matter.")
    runbook_id: str | None = Field(None, max_length=100, validation_alias=AliasChoices("runbook_id", "id"),
                                   description="Default: from the title.")
    folder: str | None = Field(None, max_length=300, description="Folder under the library root.")


class RunbookChanges(_FrontMatter):
    """The fields of a runbook to change (over HTTP the id is in the path)."""

    model_config = ConfigDict(json_schema_extra=lambda schema: schema.update(minProperties=1))

    title: str | None = Field(None, min_length=3, max_length=200)
    content: str | None = Field(None, max_length=MAX_CONTENT)
    type: RunbookType | None = None
    severity: Severity | None = None
    metadata: dict[str, Any] | None = Field(None, description="Merged; null removes a key.")
    expected_version: StrictInt | None = Field(None, ge=1, description="Refuse if it moved on.")
    note: str | None = Field(None, max_length=2000)

    @model_validator(mode="before")
    @classmethod
    def _stable_id(cls, data: Any) -> Any:
        if isinstance(data, dict) and ("id" in data or "folder" in data):
            raise ValueError("'id' and 'folder' cannot change on update: ids are stable; the URL names the runbook")
        return data

    @model_validator(mode="after")
    def _something(self) -> RunbookChanges:
        if all(getattr(self, k) is None for k in ("title", "content", "type", "severity", "tags", "expected_version",
                                                  "note")) and self.front_matter() is None:
            raise ValueError("nothing to update: send at least one of title, content, tags, severity, type, metadata")
        return self


class UpdateRunbookRequest(RunbookChanges):
    runbook_id: RunbookId


class HistoryRequest(PageRequest):
    runbook_id: RunbookId


class DiffRequest(Request):
    runbook_id: RunbookId
    from_version: int = Field(ge=1)
    to_version: int | None = Field(None, ge=1, description="Default: current.")


class CaseRunbookRequest(Request):
    case: Case | str = Field(description="The resolved case (object or JSON text).")
    force: StrictBool = Field(False, description="Write a new runbook even if one covers the problem.")

    @model_validator(mode="before")
    @classmethod
    def _bare_case(cls, data: Any) -> Any:
        # Over HTTP the body may be the case itself rather than {"case": ..., "force": ...}.
        if isinstance(data, dict) and "case" not in data:
            return {"case": data}
        return data


class HistoryResponse(BaseModel):
    id: str
    path: str
    current_version: int
    last_updated: str
    update_count: int
    versions: list[dict[str, Any]]
    next_cursor: str | None


class DiffResponse(BaseModel):
    id: str
    from_version: int
    to_version: int
    identical: bool
    diff: str
