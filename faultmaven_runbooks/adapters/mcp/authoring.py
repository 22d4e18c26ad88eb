"""create_runbook, update_runbook, runbook_history and runbook_diff over MCP."""

from __future__ import annotations

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.types import CallToolResult

from ...api.runbooks import (
    CreateRunbookRequest,
    DiffRequest,
    DiffResponse,
    HistoryRequest,
    HistoryResponse,
    UpdateRunbookRequest,
)
from ...library.authoring import WriteResult
from ...service import RunbookService
from .calls import READ_ONLY, WRITES, answer
from .tools import request_tool

# Fields the REST API takes for FaultMaven's front matter; over MCP they go in `metadata`, which
# keeps tools/list (read by the model on every turn) short.
HTTP_ONLY = ("folder", "service", "domain", "status", "symptom_class")


def register(server: MCPServer, service: RunbookService, surface) -> None:
    if not surface.offers("authoring"):
        return

    if surface.offers("authoring", writes=True):
        @request_tool(server, CreateRunbookRequest, title="Create a runbook", annotations=WRITES,
                      omit=(*HTTP_ONLY, "author"), output=WriteResult)
        async def create_runbook(ctx: Context, request: CreateRunbookRequest) -> CallToolResult:
            """Add a runbook to the library; it is searchable at once. Refuses an id that exists."""
            return await answer(ctx, "create_runbook", lambda: service.create_runbook(request))

        @request_tool(server, UpdateRunbookRequest, title="Update a runbook", annotations=WRITES, omit=HTTP_ONLY,
                      fixed={"author": "mcp"}, output=WriteResult)
        async def update_runbook(ctx: Context, request: UpdateRunbookRequest) -> CallToolResult:
            """Change a runbook; the previous version is kept (runbook_history, runbook_diff)."""
            return await answer(ctx, "update_runbook", lambda: service.update_runbook(request))

    @request_tool(server, HistoryRequest, title="Runbook history", annotations=READ_ONLY, output=HistoryResponse)
    async def runbook_history(ctx: Context, request: HistoryRequest) -> CallToolResult:
        """A runbook's kept versions, newest first: who replaced each, when and why."""
        return await answer(ctx, "runbook_history", lambda: service.runbook_history(request))

    @request_tool(server, DiffRequest, title="Diff two runbook versions", annotations=READ_ONLY, output=DiffResponse)
    async def runbook_diff(ctx: Context, request: DiffRequest) -> CallToolResult:
        """Unified diff between two versions of a runbook."""
        return await answer(ctx, "runbook_diff", lambda: service.runbook_diff(request))
