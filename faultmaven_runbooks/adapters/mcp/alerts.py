"""list_alerts and get_triage: the alerts the webhooks triaged, for an agent picking up an alert."""

from __future__ import annotations

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.types import CallToolResult

from ...api.alerts import AlertList, GetTriageRequest, ListAlertsRequest, TriageDetail
from ...service import RunbookService
from .calls import READ_ONLY, answer
from .tools import request_tool


def register(server: MCPServer, service: RunbookService, surface) -> None:
    """The `alerts` toolset: reads only, so read-only servers offer it too."""
    if not surface.offers("alerts"):
        return

    @request_tool(server, ListAlertsRequest, title="List alerts", annotations=READ_ONLY, output=AlertList)
    async def list_alerts(ctx: Context, request: ListAlertsRequest) -> CallToolResult:
        """Alerts the webhooks received, latest first: status, best runbook, dry run."""
        return await answer(ctx, "list_alerts", lambda: service.list_alerts(request))

    @request_tool(server, GetTriageRequest, title="Alert triage", annotations=READ_ONLY, output=TriageDetail)
    async def get_triage(ctx: Context, request: GetTriageRequest) -> CallToolResult:
        """One alert by fingerprint: runbooks suggested and why, dry run, resolution."""
        return await answer(ctx, "get_triage", lambda: service.get_triage(request))
