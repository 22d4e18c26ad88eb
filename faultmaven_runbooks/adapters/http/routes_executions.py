"""Executions over HTTP: preview, start, list and show them, and let a person approve or reject.

Approving needs an approver credential (`faultmaven-runbooks approvers add NAME`), never the API
token: an agent holding the API token could otherwise approve the plans it asked for. The
approver's identity comes from the credential; a name in the body proves nothing.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from starlette.exceptions import HTTPException

from ...api.executions import Decision, ExecuteRequest, ListExecutionsRequest, PlanRequest
from ...errors import Forbidden, InvalidInput, RunbookError
from ...executor.models import ExecutionList, ExecutionResult, PlanPreview
from ...read_only import REFUSAL
from .body import CheckedJsonRoute
from .context import AppContext, ctx
from .responses import ERRORS, call
from .security import API_TOKEN_SEEN

router = APIRouter(route_class=CheckedJsonRoute, responses=ERRORS, tags=["executions"])
ExecutionId = Annotated[str, Path(pattern=r"^exec-[0-9a-f]{12}$", description="exec-<12 hex digits>")]
# Who applies a change and its compare-and-set version are the server's business, not the client's.
HIDDEN = {"owner", "version"}


def _bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _approver(c: AppContext, request: Request) -> str:
    """The approver's identity from their credential, or a 401/403 that says how to get one."""
    token = _bearer(request)
    if not token:
        raise HTTPException(401, "approving needs an approver credential: send 'Authorization: Bearer <approver "
                            "token>'", headers={"WWW-Authenticate": 'Bearer realm="faultmaven-approvers"'})
    if not c.service.approver_names():
        raise Forbidden("HTTP approval is off: no approver credentials exist. An operator enables it on the server's "
                        "host with `faultmaven-runbooks approvers add NAME` (same --data), which prints a token for "
                        "that person to send as 'Authorization: Bearer <token>'")
    api_token = c.settings.http.auth_token
    if token and api_token and hmac.compare_digest(token.encode(), api_token.encode()):
        # The API token is what agents hold: it must never approve (self-approval by the model),
        # even if an operator made it equal to an approver's token.
        raise Forbidden("the API token cannot approve; send a person's approver credential "
                        "(`faultmaven-runbooks approvers add NAME`) as 'Authorization: Bearer <token>'")
    name = c.service.identify_approver(token)
    if name is not None:
        return name
    raise HTTPException(401, "approving needs an approver credential: send 'Authorization: Bearer <approver token>'",
                        headers={"WWW-Authenticate": 'Bearer realm="faultmaven-approvers"'})


@router.post("/runbooks/execute", summary="Execute a runbook in the sandbox (dry-run first, approvals for changes)",
             response_model_exclude=HIDDEN)
async def execute(request: Request, body: ExecuteRequest) -> ExecutionResult:
    c = ctx(request)
    body = body.model_copy(update={"requester": f"rest:{body.requester}"})
    try:
        result = await call(c.service.execute, body)
    except RunbookError:
        c.metrics.ran("rest", None, "refused")
        raise
    c.metrics.ran("rest", result.runbook_id, result.outcome)
    return result


@router.post("/runbooks/plan", summary="Preview what execute would run (runs nothing)")
async def plan(request: Request, body: PlanRequest) -> PlanPreview:
    return await call(ctx(request).service.plan, body)


@router.get("/runbooks/executions", summary="Executions, newest first, paged with a cursor")
async def list_executions(request: Request, q: Annotated[ListExecutionsRequest, Query()]) -> ExecutionList:
    return await call(ctx(request).service.list_executions, q)


@router.get("/runbooks/executions/{execution_id}", summary="One execution (API token or an approver credential)",
            response_model_exclude=HIDDEN)
async def get_execution(request: Request, execution_id: ExecutionId) -> ExecutionResult:
    c = ctx(request)
    # An approver may read what they are asked to approve; anyone else needs the API token.
    if c.settings.http.auth_token and not getattr(request.state, API_TOKEN_SEEN, False) \
            and await call(c.service.identify_approver, _bearer(request)) is None:
        raise HTTPException(401, "authentication required; send 'Authorization: Bearer <token>' (the API token "
                            "or an approver credential)", headers={"WWW-Authenticate": 'Bearer realm="faultmaven"'})
    return await call(c.service.get_execution, execution_id)


async def _decide(request: Request, execution_id: str, decision: str, body: Decision | None) -> ExecutionResult:
    c = ctx(request)
    if getattr(c.service, "read_only", False):
        raise Forbidden(REFUSAL)  # before any credential lookup: nothing is ever applied here
    approver = await call(_approver, c, request)
    body = body or Decision()
    if body.approver and body.approver.casefold() != approver.casefold():
        raise InvalidInput(f"approver is taken from your credential ({approver}); leave it out or send that name")
    result = await call(c.service.decide, execution_id, approver, decision, body.reason, "http")
    c.metrics.approvals.labels(decision=decision).inc()
    c.metrics.ran("approval", result.runbook_id, result.outcome)
    return result


@router.post("/runbooks/executions/{execution_id}/approve", response_model_exclude=HIDDEN,
             summary="Approve a pending plan: needs an approver credential, never the API token")
async def approve(request: Request, execution_id: ExecutionId, body: Decision | None = None) -> ExecutionResult:
    return await _decide(request, execution_id, "approve", body)


@router.post("/runbooks/executions/{execution_id}/reject", response_model_exclude=HIDDEN,
             summary="Reject a pending plan (approver credential)")
async def reject(request: Request, execution_id: ExecutionId, body: Decision | None = None) -> ExecutionResult:
    return await _decide(request, execution_id, "reject", body)
