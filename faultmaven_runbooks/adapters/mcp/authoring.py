"""create_runbook, update_runbook, runbook_history, runbook_diff, create_runbook_from_case and
runbook_analytics over MCP."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server import MCPServer
from mcp.types import ToolAnnotations
from pydantic import BaseModel, Field

from ...learning.case_runbooks import CaseRunbookResult
from ...library.authoring import AuthoringService, WriteResult
from ...service import RunbookService
from .errors import domain_errors

READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
# Writes keep the previous version, so nothing is destroyed; repeating a create fails, not duplicates.
WRITES = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False)
Id = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9-]*$",
                          description="Runbook id (from search).")]
Tags = Annotated[list[Annotated[str, Field(max_length=50)]] | None, Field(max_length=30)]


class HistoryResponse(BaseModel):
    id: str
    path: str
    current_version: int
    last_updated: str
    update_count: int
    versions: list[dict[str, Any]]


class DiffResponse(BaseModel):
    id: str
    from_version: int
    to_version: int
    identical: bool
    diff: str


class AnalyticsResponse(BaseModel):
    runbooks: list[dict[str, Any]]
    resolution_time: dict[str, Any]
    stale_runbooks: list[str]


def register(server: MCPServer, service: RunbookService) -> None:
    def authoring() -> AuthoringService:
        return service.authoring

    @server.tool(title="Create a runbook", annotations=WRITES)
    @domain_errors
    def create_runbook(
        title: Annotated[str, Field(min_length=3, max_length=200)],
        content: Annotated[str, Field(min_length=20, max_length=500_000, description="Markdown body.")],
        type: Literal["static", "dynamic", "template"] = "dynamic",
        severity: Literal["critical", "high", "medium", "low", "info"] = "medium",
        tags: Tags = None,
        metadata: Annotated[dict[str, Any] | None, Field(description="Extra front matter, e.g. incident_id.")] = None,
        runbook_id: Annotated[str | None, Field(max_length=100, description="Id; derived from the title if omitted.")] = None,
    ) -> WriteResult:
        """Add a runbook to the library and index it at once. Refuses an id or file that exists."""
        return authoring().create_runbook(title, content, type=type, severity=severity, tags=tags,
                                          metadata=metadata, runbook_id=runbook_id)

    @server.tool(title="Update a runbook", annotations=WRITES)
    @domain_errors
    def update_runbook(
        runbook_id: Id,
        title: Annotated[str | None, Field(max_length=200)] = None,
        content: Annotated[str | None, Field(max_length=500_000, description="New markdown body.")] = None,
        type: Literal["static", "dynamic", "template"] | None = None,
        severity: Literal["critical", "high", "medium", "low", "info"] | None = None,
        tags: Tags = None,
        metadata: Annotated[dict[str, Any] | None, Field(description="Merged; a null value removes a key.")] = None,
        expected_version: Annotated[int | None, Field(ge=1, description="Refuse if the runbook moved on.")] = None,
        note: Annotated[str | None, Field(max_length=500)] = None,
    ) -> WriteResult:
        """Change a runbook; the previous version is kept (see runbook_history / runbook_diff)."""
        return authoring().update_runbook(runbook_id, title=title, content=content, type=type,
                                          severity=severity, tags=tags, metadata=metadata,
                                          expected_version=expected_version, author="mcp", note=note)

    @server.tool(title="Runbook history", annotations=READ_ONLY)
    @domain_errors
    def runbook_history(runbook_id: Id) -> HistoryResponse:
        """The runbook's current version and every kept earlier version."""
        return HistoryResponse(**authoring().history(runbook_id))

    @server.tool(title="Diff two runbook versions", annotations=READ_ONLY)
    @domain_errors
    def runbook_diff(
        runbook_id: Id,
        from_version: Annotated[int, Field(ge=1)],
        to_version: Annotated[int | None, Field(ge=1, description="Defaults to the current version.")] = None,
    ) -> DiffResponse:
        """Unified diff between two versions of a runbook."""
        return DiffResponse(**authoring().diff(runbook_id, from_version, to_version))

    @server.tool(title="Create a runbook from a FaultMaven case", annotations=WRITES)
    @domain_errors
    def create_runbook_from_case(
        case: Annotated[dict[str, Any] | str, Field(description="A resolved FaultMaven case (object or JSON text, any model generation).")],
        force: Annotated[bool, Field(description="Write a new runbook even if a very similar one exists.")] = False,
    ) -> CaseRunbookResult:
        """Turn a resolved case into a draft runbook (problem summary, diagnosis steps, root cause,
        solution, prevention). Returns an existing runbook instead when one already covers the problem,
        and credits the runbook the case was resolved with instead of duplicating it."""
        return authoring().create_from_case(case, force=force)

    @server.tool(title="Runbook analytics", annotations=READ_ONLY)
    @domain_errors
    def runbook_analytics(runbook_id: Annotated[str | None, Field(max_length=100)] = None) -> AnalyticsResponse:
        """Per runbook: retrievals, executions and success rate, resolution time with and without a
        runbook, update count, last verification and a stale flag."""
        return AnalyticsResponse(**service.analytics.report(runbook_id))
