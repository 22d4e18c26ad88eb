"""search, suggest_similar, get_runbook and the runbook://{id} resources."""

from __future__ import annotations

from typing import Annotated, Literal

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS
from pydantic import Field

from ...errors import InvalidInput, NotFound
from ...models import RunbookPage, SearchResponse, SuggestResponse
from ...service import MAX_QUERY_CHARS, RunbookService
from .calls import READ_ONLY, answer
from .inputs import Alert, Case, plain

SEARCH_LIMIT = 5
MAX_SEARCH_CHARS = 8000  # an answer a model can keep in context next to the rest of the incident
RESOURCE_NOT_FOUND = -32002  # "Resource not found" in the MCP 2025-06-18 and 2025-11-25 specs
PROBLEM_SOURCES = ("problem", "alert", "case")

# "Exactly one of problem, alert, case", in JSON Schema without oneOf/anyOf/allOf at the root
# (Claude's API rejects those there): any one of the three excludes the other two, at least one
# property is present, and `limit` alone is not enough.
EXACTLY_ONE_SOURCE = {
    "additionalProperties": False,
    "minProperties": 1,
    "dependentSchemas": {
        "limit": {"minProperties": 2},
        **{name: {"properties": {other: False for other in PROBLEM_SOURCES if other != name}}
           for name in PROBLEM_SOURCES},
    },
}


def bounded(response: SearchResponse, max_chars: int = MAX_SEARCH_CHARS) -> SearchResponse:
    """Drop the lowest-ranked hits until the answer fits, and say how many were left out."""
    hits = list(response.results)
    fitted = response
    while len(hits) > 1 and len(fitted.model_dump_json(exclude_none=True)) > max_chars:
        hits.pop()
        note = (f"{len(response.results) - len(hits)} more matching runbook(s) left out to keep this answer under "
                f"{max_chars:,} characters; ask with a smaller limit or read one with get_runbook.")
        fitted = response.model_copy(update={"results": hits,
                                             "message": " ".join(x for x in (response.message, note) if x)})
    return fitted


def register(server: MCPServer, service: RunbookService, surface) -> None:
    if not surface.offers("search"):
        return

    @server.tool(title="Search runbooks", annotations=READ_ONLY)
    async def search(
        ctx: Context,
        query: Annotated[str, Field(min_length=1, max_length=MAX_QUERY_CHARS,
                                    description="Problem, error message or alert name.")],
        type: Literal["static", "dynamic", "template"] | None = None,
        severity: Literal["critical", "high", "medium", "low", "info"] | None = None,
        tags: Annotated[list[str] | None, Field(max_length=20, description="Any of these tags.")] = None,
        limit: Annotated[int, Field(ge=1, le=20)] = SEARCH_LIMIT,
    ) -> SearchResponse:
        """Find runbooks for a problem, error message or alert name; start here when troubleshooting.
        Hits name the matching section; empty results with a message mean no confident match."""
        return await answer(ctx, "search", lambda: bounded(
            service.search(query, type=type, severity=severity, tags=tags, limit=limit)))

    @server.tool(title="Suggest runbooks for an alert or case", annotations=READ_ONLY)
    async def suggest_similar(
        ctx: Context,
        problem: Annotated[str | None, Field(max_length=MAX_QUERY_CHARS, description="Problem text.")] = None,
        alert: Alert | None = None,
        case: Annotated[Case | str | None, Field(description="FaultMaven case, or its summary.")] = None,
        limit: Annotated[int, Field(ge=1, le=10)] = 3,
    ) -> SuggestResponse:
        """Best runbooks for an alert, a FaultMaven case or a problem (exactly one of the three),
        each with a ready follow-up action."""
        return await answer(ctx, "suggest_similar", lambda: service.suggest_similar(
            problem=problem, alert=plain(alert), case=plain(case), limit=limit))

    surface.schema_rules["suggest_similar"] = EXACTLY_ONE_SOURCE

    @server.tool(title="Read a runbook", annotations=READ_ONLY)
    async def get_runbook(
        ctx: Context,
        runbook_id: Annotated[str, Field(min_length=1, max_length=500,
                                         description="Id (any case), alert name or runbook_url.")],
        section: Annotated[str | None, Field(max_length=300, description="Heading to return alone.")] = None,
        page: Annotated[int, Field(ge=1, le=10_000)] = 1,
    ) -> RunbookPage:
        """Read a runbook, whole or one section, paged, with its commands as numbered steps."""
        return await answer(ctx, "get_runbook", lambda: service.get_runbook(runbook_id, section=section, page=page))

    @server.resource("runbook://{runbook_id}", title="Runbook", mime_type="text/markdown")
    def runbook_resource(runbook_id: str) -> str:
        """A runbook's markdown, for clients that browse resources."""
        try:
            return service.library.find(runbook_id).content
        except NotFound as exc:
            raise MCPError(RESOURCE_NOT_FOUND, str(exc), data={"uri": f"runbook://{runbook_id}"}) from exc
        except InvalidInput as exc:  # an id several files share: the message names their ids
            raise MCPError(INVALID_PARAMS, str(exc), data={"uri": f"runbook://{runbook_id}"}) from exc

