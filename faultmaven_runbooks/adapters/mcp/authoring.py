"""create_runbook, update_runbook, runbook_history and runbook_diff over MCP."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from pydantic import BaseModel, Field

from ...library.authoring import WriteResult
from ...paging import DEFAULT_LIMIT
from ...service import RunbookService
from .calls import READ_ONLY, WRITES, answer
from .inputs import Cursor, Limit

Id = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9-]*$")]
Tags = Annotated[list[Annotated[str, Field(max_length=50)]] | None, Field(max_length=30)]
Type = Literal["static", "dynamic", "template"]
Severity = Literal["critical", "high", "medium", "low", "info"]


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


def register(server: MCPServer, service: RunbookService, surface) -> None:
    if not surface.offers("authoring"):
        return

    if surface.offers("authoring", writes=True):
        @server.tool(title="Create a runbook", annotations=WRITES)
        async def create_runbook(
            ctx: Context,
            title: Annotated[str, Field(min_length=3, max_length=200)],
            content: Annotated[str, Field(min_length=20, max_length=500_000, description="Markdown body.")],
            type: Type = "dynamic",
            severity: Severity = "medium",
            tags: Tags = None,
            metadata: Annotated[dict[str, Any] | None, Field(description="Extra front matter.")] = None,
            runbook_id: Annotated[str | None, Field(max_length=100, description="Default: from the title.")] = None,
        ) -> WriteResult:
            """Add a runbook to the library; it is searchable at once. Refuses an id that exists."""
            return await answer(ctx, "create_runbook", lambda: service.authoring.create_runbook(
                title, content, type=type, severity=severity, tags=tags, metadata=metadata, runbook_id=runbook_id))

        @server.tool(title="Update a runbook", annotations=WRITES)
        async def update_runbook(
            ctx: Context,
            runbook_id: Id,
            title: Annotated[str | None, Field(max_length=200)] = None,
            content: Annotated[str | None, Field(max_length=500_000)] = None,
            type: Type | None = None,
            severity: Severity | None = None,
            tags: Tags = None,
            metadata: Annotated[dict[str, Any] | None, Field(description="Merged; null removes a key.")] = None,
            expected_version: Annotated[int | None, Field(ge=1, description="Refuse if it moved on.")] = None,
            note: Annotated[str | None, Field(max_length=500)] = None,
        ) -> WriteResult:
            """Change a runbook; the previous version is kept (runbook_history, runbook_diff)."""
            return await answer(ctx, "update_runbook", lambda: service.authoring.update_runbook(
                runbook_id, title=title, content=content, type=type, severity=severity, tags=tags,
                metadata=metadata, expected_version=expected_version, author="mcp", note=note))

    @server.tool(title="Runbook history", annotations=READ_ONLY)
    async def runbook_history(
        ctx: Context,
        runbook_id: Id,
        cursor: Cursor = None,
        limit: Limit = DEFAULT_LIMIT,
    ) -> HistoryResponse:
        """A runbook's kept versions, newest first: who replaced each, when and why."""
        return await answer(ctx, "runbook_history",
                            lambda: HistoryResponse(**service.authoring.history(runbook_id, cursor, limit)))

    @server.tool(title="Diff two runbook versions", annotations=READ_ONLY)
    async def runbook_diff(
        ctx: Context,
        runbook_id: Id,
        from_version: Annotated[int, Field(ge=1)],
        to_version: Annotated[int | None, Field(ge=1, description="Default: current.")] = None,
    ) -> DiffResponse:
        """Unified diff between two versions of a runbook."""
        return await answer(ctx, "runbook_diff",
                            lambda: DiffResponse(**service.authoring.diff(runbook_id, from_version, to_version)))
