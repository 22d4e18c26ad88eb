"""Executions over HTTP: start one, list them, and let a person approve or reject a plan."""

from __future__ import annotations

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...errors import RunbookError
from .context import ctx, query_dict, status_of
from .responses import call, feature, ok, parse_body, validate
from .schemas import ApprovalRequest, ExecuteRequest, ExecutionsQuery


async def execute(request: Request) -> Response:
    c = ctx(request)
    body = await parse_body(request, ExecuteRequest)
    executions = feature(c.service, "executions")
    try:
        result = await call(executions.execute, body.runbook_id, body.context, body.parameters, body.requester)
    except (RunbookError, ValidationError):
        c.metrics.inc("faultmaven_executions_total", outcome="refused", via="rest")
        raise
    c.metrics.inc("faultmaven_executions_total", outcome=status_of(result), via="rest")
    return ok(result)


async def list_executions(request: Request) -> Response:
    c = ctx(request)
    q = validate(ExecutionsQuery, query_dict(request))
    items = await call(
        feature(c.service, "executions").list_executions, limit=q.limit, runbook_id=q.runbook_id, status=q.status
    )
    return ok({"executions": items, "count": len(items)} if isinstance(items, list) else items)


async def get_execution(request: Request) -> Response:
    c = ctx(request)
    return ok(await call(feature(c.service, "executions").get, request.path_params["execution_id"]))


async def _decide(request: Request, decision: str) -> Response:
    c = ctx(request)
    body = await parse_body(request, ApprovalRequest)
    result = await call(
        feature(c.service, "executions").approve,
        request.path_params["execution_id"],
        body.approver,
        decision,
        body.reason,
    )
    c.metrics.inc("faultmaven_approvals_total", decision=decision)
    c.metrics.inc("faultmaven_executions_total", outcome=status_of(result), via="approval")
    return ok(result)


async def approve(request: Request) -> Response:
    return await _decide(request, "approve")


async def reject(request: Request) -> Response:
    return await _decide(request, "reject")


ROUTES = [
    Route("/runbooks/execute", execute, methods=["POST"]),
    Route("/runbooks/executions", list_executions, methods=["GET"]),
    Route("/runbooks/executions/{execution_id}", get_execution, methods=["GET"]),
    Route("/runbooks/executions/{execution_id}/approve", approve, methods=["POST"]),
    Route("/runbooks/executions/{execution_id}/reject", reject, methods=["POST"]),
]
