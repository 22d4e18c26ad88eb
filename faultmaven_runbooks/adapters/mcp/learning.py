"""learn, get_patterns, runbook_analytics and create_runbook_from_case: the learning loop."""

from __future__ import annotations

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.types import CallToolResult, ToolAnnotations

from ...api.base import PageRequest
from ...api.learning import AnalyticsRequest, AnalyticsResponse, LearnRequest, PatternsResponse
from ...api.runbooks import CaseRunbookRequest
from ...learning import LearnResult
from ...learning.case_runbooks import CaseRunbookResult
from ...service import RunbookService
from .calls import READ_ONLY, WRITES, answer
from .tools import request_tool

# learn replaces what a known incident id counted, so sending it again changes nothing more.
LEARNS = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False)


def register(server: MCPServer, service: RunbookService, surface) -> None:
    if not surface.offers("learning"):
        return

    if surface.offers("learning", writes=True):
        @request_tool(server, LearnRequest, title="Learn from an incident", annotations=LEARNS, output=LearnResult)
        async def learn(ctx: Context, request: LearnRequest) -> CallToolResult:
            """Record a resolved or failed incident: patterns, fix success rates and runbook
            outcomes improve; a recurring type may get a runbook."""
            return await answer(ctx, "learn", lambda: service.learn(request))

        @request_tool(server, CaseRunbookRequest, title="Create a runbook from a resolved case",
                      annotations=WRITES, output=CaseRunbookResult)
        async def create_runbook_from_case(ctx: Context, request: CaseRunbookRequest) -> CallToolResult:
            """Write a draft runbook from a resolved FaultMaven case, or get (and credit) the runbook
            that already covers it."""
            return await answer(ctx, "create_runbook_from_case", lambda: service.runbook_from_case(request))

    @request_tool(server, PageRequest, title="Learned incident patterns",
                  annotations=READ_ONLY, output=PatternsResponse)
    async def get_patterns(ctx: Context, request: PageRequest) -> CallToolResult:
        """Learned incident patterns, most frequent first: time to resolve, fixes that worked or
        failed, runbooks credited."""
        return await answer(ctx, "get_patterns", lambda: service.patterns(request))

    @request_tool(server, AnalyticsRequest, title="Runbook analytics", annotations=READ_ONLY, output=AnalyticsResponse)
    async def runbook_analytics(ctx: Context, request: AnalyticsRequest) -> CallToolResult:
        """Which runbooks are used, work or are stale; resolution time with and without a runbook."""
        return await answer(ctx, "runbook_analytics", lambda: service.runbook_analytics(request))
