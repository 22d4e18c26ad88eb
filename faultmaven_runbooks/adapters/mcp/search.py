"""search, suggest_similar, get_runbook and the runbook://{id} resources."""

from __future__ import annotations

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, CallToolResult

from ...api.search import GetRunbookRequest, SearchRequest, SuggestRequest
from ...errors import InvalidInput, NotFound
from ...models import RunbookPage, SearchResponse, SuggestResponse
from ...service import RunbookService
from .calls import READ_ONLY, answer
from .tools import request_tool

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

    @request_tool(server, SearchRequest, title="Search runbooks", annotations=READ_ONLY, output=SearchResponse)
    async def search(ctx: Context, request: SearchRequest) -> CallToolResult:
        """Find runbooks for a problem, error message or alert name; start here when troubleshooting.
        Best first; `confident: false` means none fits."""
        return await answer(ctx, "search", lambda: bounded(service.search(request)))

    @request_tool(server, SuggestRequest, title="Suggest runbooks",
                  annotations=READ_ONLY, output=SuggestResponse)
    async def suggest_similar(ctx: Context, request: SuggestRequest) -> CallToolResult:
        """Best runbooks for exactly one of: an alert, a FaultMaven case, a problem; each with a ready
        follow-up action."""
        return await answer(ctx, "suggest_similar", lambda: service.suggest_similar(request))

    surface.schema_rules["suggest_similar"] = EXACTLY_ONE_SOURCE

    @request_tool(server, GetRunbookRequest, title="Read a runbook", annotations=READ_ONLY, output=RunbookPage)
    async def get_runbook(ctx: Context, request: GetRunbookRequest) -> CallToolResult:
        """Read a runbook, whole or one section, paged, with its commands as numbered steps."""
        return await answer(ctx, "get_runbook", lambda: service.get_runbook(request))

    @server.resource("runbook://{runbook_id}", title="Runbook", mime_type="text/markdown")
    def runbook_resource(runbook_id: str) -> str:
        """A runbook's markdown, for clients that browse resources."""
        try:
            return service.library.find(runbook_id).content
        except NotFound as exc:
            raise MCPError(RESOURCE_NOT_FOUND, str(exc), data={"uri": f"runbook://{runbook_id}"}) from exc
        except InvalidInput as exc:  # an id several files share: the message names their ids
            raise MCPError(INVALID_PARAMS, str(exc), data={"uri": f"runbook://{runbook_id}"}) from exc

