"""search, suggest_similar, get_runbook and the runbook://{id} resources."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server import MCPServer
from mcp.types import ToolAnnotations
from mcp.server.mcpserver.exceptions import ResourceError
from pydantic import Field

from ..errors import RunbookError
from ..models import RunbookPage, SearchResponse, SuggestResponse
from ..service import MAX_QUERY_CHARS, RunbookService
from . import domain_errors

READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)


def register(server: MCPServer, service: RunbookService) -> None:
    @server.tool(title="Search runbooks", annotations=READ_ONLY)
    @domain_errors
    def search(
        query: Annotated[str, Field(min_length=1, max_length=MAX_QUERY_CHARS,
                                    description="Problem description, error message or alert name.")],
        type: Annotated[Literal["static", "dynamic", "template"] | None, Field(description="Runbook type filter.")] = None,
        severity: Annotated[Literal["critical", "high", "medium", "low", "info"] | None,
                            Field(description="Severity filter.")] = None,
        tags: Annotated[list[str] | None, Field(max_length=20, description="Keep runbooks with any of these tags.")] = None,
        limit: Annotated[int, Field(ge=1, le=100)] = 10,
        status: Annotated[Literal["verified", "draft", "deprecated"] | None,
                          Field(description="Keep runbooks of this status only (drafts include learned ones).")] = None,
    ) -> SearchResponse:
        """Find runbooks by meaning and by keyword (alert names and error strings match exactly).

        Results are sorted by relevance_score, a calibrated confidence; each hit names the section
        that matched, with a snippet and the signals apart in `why`. `confident` is false (and
        `message` says so) when the library likely has no runbook for the query.
        """
        return service.search(query, type=type, severity=severity, tags=tags, limit=limit, status=status)

    @server.tool(title="Suggest similar runbooks", annotations=READ_ONLY)
    @domain_errors
    def suggest_similar(
        problem: Annotated[str | None, Field(max_length=MAX_QUERY_CHARS, description="Free-text problem description.")] = None,
        alert: Annotated[dict[str, Any] | None, Field(description="An alert: {name|alertname, labels, annotations}.")] = None,
        case: Annotated[dict[str, Any] | str | None, Field(description="A FaultMaven case (any generation) or case summary.")] = None,
        limit: Annotated[int, Field(ge=1, le=10)] = 3,
    ) -> SuggestResponse:
        """Give exactly one of problem, alert or case; returns the best runbooks, each with a ready
        suggested action ("Show me runbook: <title>")."""
        return service.suggest_similar(problem=problem, alert=alert, case=case, limit=limit)

    @server.tool(title="Read a runbook", annotations=READ_ONLY)
    @domain_errors
    def get_runbook(
        runbook_id: Annotated[str, Field(min_length=1, max_length=300, description="Runbook id from search.")],
        section: Annotated[str | None, Field(max_length=300, description="Heading (or heading path) to return alone.")] = None,
        page: Annotated[int, Field(ge=1, le=10_000)] = 1,
    ) -> RunbookPage:
        """Return a runbook whole or one section (with its subsections), paged for long runbooks,
        with its commands as steps."""
        return service.get_runbook(runbook_id, section=section, page=page)

    @server.resource("runbook://{runbook_id}", title="Runbook", mime_type="text/markdown")
    def runbook_resource(runbook_id: str) -> str:
        """A runbook's markdown, for clients that browse resources."""
        try:
            return service.library.get(runbook_id).content
        except RunbookError as exc:  # otherwise the client sees only "Error creating resource"
            raise ResourceError(str(exc)) from exc
