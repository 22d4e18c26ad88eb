"""learn, get_patterns, runbook_analytics and create_runbook_from_case: the learning loop."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.types import ToolAnnotations
from pydantic import BaseModel, Field

from ...learning import LearnResult
from ...learning.case_runbooks import CaseRunbookResult
from ...paging import DEFAULT_LIMIT
from ...service import RunbookService
from .calls import READ_ONLY, WRITES, answer
from .inputs import Case, Cursor, Incident, IncidentContext, Limit, plain

# learn replaces what a known incident id counted, so sending it again changes nothing more.
LEARNS = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False)


class PatternsResponse(BaseModel):
    incident_patterns: dict[str, dict[str, Any]]
    resolution_effectiveness: dict[str, dict[str, Any]]
    runbook_outcomes: dict[str, dict[str, Any]]
    total_incidents: int
    total_patterns: int
    next_cursor: str | None


class AnalyticsResponse(BaseModel):
    runbooks: list[dict[str, Any]]
    total: int
    next_cursor: str | None
    resolution_time: dict[str, Any]
    stale_count: int


def register(server: MCPServer, service: RunbookService, surface) -> None:
    if not surface.offers("learning"):
        return

    if surface.offers("learning", writes=True):
        @server.tool(title="Learn from an incident", annotations=LEARNS)
        async def learn(ctx: Context, incident_data: Incident, context: IncidentContext | None = None) -> LearnResult:
            """Record a resolved or failed incident so patterns, fix success rates and runbook outcomes
            improve; may write a dynamic runbook for a new or recurring incident type."""
            return await answer(ctx, "learn", lambda: service.learning.learn(plain(incident_data), plain(context)))

        @server.tool(title="Create a runbook from a resolved case", annotations=WRITES)
        async def create_runbook_from_case(
            ctx: Context,
            case: Annotated[Case | str, Field(description="The resolved case (object or JSON text).")],
            force: Annotated[bool, Field(description="Write a new runbook even if one covers the problem.")] = False,
        ) -> CaseRunbookResult:
            """After a FaultMaven case is resolved: write a draft runbook from it, or get the runbook that
            already covers the same problem (credited with the resolution)."""
            return await answer(ctx, "create_runbook_from_case",
                                lambda: service.authoring.create_from_case(plain(case), force=force))

    @server.tool(title="Learned incident patterns", annotations=READ_ONLY)
    async def get_patterns(ctx: Context, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT) -> PatternsResponse:
        """Learned incident patterns, most frequent first: how often, how fast resolved, which fixes
        worked or failed, and the runbooks credited."""
        return await answer(ctx, "get_patterns",
                            lambda: PatternsResponse(**service.learning.get_patterns(cursor, limit)))

    @server.tool(title="Runbook analytics", annotations=READ_ONLY)
    async def runbook_analytics(
        ctx: Context,
        runbook_id: Annotated[str | None, Field(max_length=100)] = None,
        stale_only: bool = False,
        cursor: Cursor = None,
        limit: Limit = DEFAULT_LIMIT,
    ) -> AnalyticsResponse:
        """Which runbooks are used, work and are stale: retrievals, executions, resolutions, and
        resolution time with and without a runbook."""
        return await answer(ctx, "runbook_analytics", lambda: AnalyticsResponse(
            **service.analytics.report(runbook_id, cursor=cursor, limit=limit, stale_only=stale_only)))
