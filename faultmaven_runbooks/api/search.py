"""Finding and reading runbooks: search, suggest_similar, get_runbook."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..models import RunbookStatus, RunbookType, Severity
from .base import Request

MAX_QUERY_CHARS = 4000  # paste the key error lines, not a whole log
MAX_SEARCH_LIMIT = 50


class SearchRequest(Request):
    # `q` is its name in a query string (GET /runbooks/search?q=...).
    query: str = Field(min_length=1, max_length=MAX_QUERY_CHARS, alias="q",
                       description="Problem, error message or alert name.")
    type: RunbookType | None = None
    severity: Severity | None = None
    tags: list[Annotated[str, Field(min_length=1)]] | None = Field(None, max_length=20,
                                                                   description="Any of these tags.")
    limit: int = Field(5, ge=1, le=MAX_SEARCH_LIMIT)
    status: RunbookStatus | None = None  # learned runbooks are drafts

    @field_validator("query")
    @classmethod
    def _says_something(cls, query: str) -> str:
        if not query.strip():
            raise ValueError("query is empty; describe the problem, paste the error or give an alert name")
        return query.strip()

    @field_validator("tags", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        # A query string carries tags as "a,b" (or repeated); an MCP client sends a list.
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            tags = [t.strip() for v in value for t in v.split(",") if t.strip()]
            if value and not tags:
                raise ValueError("tags must be non-empty strings, e.g. ['kubernetes', 'pods']")
            return tags
        return value


class Alert(BaseModel):
    # An alert as Alertmanager or a monitoring tool describes it; unknown fields are kept. (A
    # comment, not a docstring: a docstring would land in every tools/list.)

    model_config = ConfigDict(extra="allow")

    name: str | None = Field(None, max_length=200, description="Alert name (or labels.alertname).")
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict, description="summary, description, runbook_url.")


class Case(BaseModel):
    """A FaultMaven case of any model generation (fields read by all their known names)."""

    model_config = ConfigDict(extra="allow")

    case_id: str | None = None
    title: str | None = None
    state: str | None = Field(None, description="resolved | closed | ... (generation 3; 1-2: status)")
    description: str | None = None
    problem_verification: dict[str, Any] | None = Field(
        None, description="symptom_statement, symptom_indicators, affected_services, started_at")
    root_cause_conclusion: dict[str, Any] | None = Field(None, description="root_cause, mechanism")
    solutions: list[dict[str, Any]] | None = None
    runbook_used: str | None = Field(None, description="Runbook id the case was resolved with.")


def plain(value: BaseModel | str | None) -> Any:
    """What the domain reads: the dict the client sent (unknown fields included), or text."""
    if isinstance(value, BaseModel):
        return value.model_dump(exclude_none=True)
    return value


class SuggestRequest(Request):
    problem: str | None = Field(None, max_length=MAX_QUERY_CHARS, description="Problem text.")
    alert: Alert | None = None
    case: Case | str | None = Field(None, description="FaultMaven case, or its summary.")
    limit: int = Field(3, ge=1, le=10)

    @model_validator(mode="after")
    def _exactly_one(self) -> SuggestRequest:
        if sum(1 for x in (self.problem, self.alert, self.case) if x) != 1:
            raise ValueError("give exactly one of: problem (text), alert (name, labels, annotations) or case (summary)")
        return self


class RunbookPageQuery(Request):
    """Which part of a runbook to read (over HTTP the id is in the path)."""

    section: str | None = Field(None, max_length=300, description="Heading to return alone.")
    page: int = Field(1, ge=1, le=10_000)


class GetRunbookRequest(RunbookPageQuery):
    runbook_id: str = Field(min_length=1, max_length=500, description="Id (any case), alert name or runbook_url.")
