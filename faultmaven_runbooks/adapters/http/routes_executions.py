"""Executions over HTTP: preview, start, list and show them, and let a person approve or reject.

Approving needs an approver credential (`faultmaven-runbooks approvers add NAME`), never the API
token: an agent holding the API token could otherwise approve the plans it asked for. The
approver's identity comes from the credential; a name in the body proves nothing.
"""

from __future__ import annotations

import hmac

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...errors import Forbidden, InvalidInput, RunbookError
from .context import AppContext, ctx, query_dict, status_of
from .responses import call, feature, json_body, ok, parse_body, validate
from .schemas import ExecuteRequest
from .security import API_TOKEN_SEEN

_OWN_FIELDS = {"owner", "version"}


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    approver: str | None = Field(None, max_length=200, description="Optional: must match the credential's name.")
    reason: str | None = Field(None, max_length=2000, description="Note for the audit log.")


class ExecutionsPage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int = Field(20, ge=1, le=100)
    runbook_id: str | None = Field(None, max_length=200)
    status: str | None = Field(None, max_length=50)
    cursor: str | None = Field(None, max_length=200)


def _bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _approver(c: AppContext, executions, request: Request) -> str:
    """The approver's identity from their credential, or a 401/403 that says how to get one."""
    if executions.approvers.count() == 0:
        raise Forbidden("HTTP approval is off: no approver credentials exist. An operator enables it on the server's "
                        "host with `faultmaven-runbooks approvers add NAME` (same --data), which prints a token for "
                        "that person to send as 'Authorization: Bearer <token>'")
    token = _bearer(request)
    if token and c.settings.auth_token and hmac.compare_digest(token.encode(), c.settings.auth_token.encode()):
        # The API token is what agents hold: it must never approve (self-approval by the model),
        # even if an operator made it equal to an approver's token.
        raise Forbidden("the API token cannot approve; send a person's approver credential "
                        "(`faultmaven-runbooks approvers add NAME`) as 'Authorization: Bearer <token>'")
    name = executions.approvers.identify(token)
    if name is not None:
        return name
    raise HTTPException(401, "approving needs an approver credential: send 'Authorization: Bearer <approver token>'",
                        headers={"WWW-Authenticate": 'Bearer realm="faultmaven-approvers"'})


def _view(record) -> dict:
    return record.model_dump(mode="json", exclude=_OWN_FIELDS)


async def execute(request: Request) -> Response:
    c = ctx(request)
    body = await parse_body(request, ExecuteRequest)
    executions = feature(c.service, "executions")
    try:
        result = await call(executions.execute, body.runbook_id, body.context, body.parameters,
                            f"rest:{body.requester}")
    except (RunbookError, ValidationError):
        c.metrics.inc("faultmaven_executions_total", outcome="refused", via="rest")
        raise
    c.metrics.inc("faultmaven_executions_total", outcome=status_of(result), via="rest")
    return ok(_view(result))


async def plan(request: Request) -> Response:
    c = ctx(request)
    body = await parse_body(request, ExecuteRequest)
    preview = await call(feature(c.service, "executions").plan, body.runbook_id, body.context, body.parameters)
    return ok(preview)


async def list_executions(request: Request) -> Response:
    c = ctx(request)
    q = validate(ExecutionsPage, query_dict(request))
    page = await call(feature(c.service, "executions").list_executions, q.limit, q.runbook_id, q.status, q.cursor)
    return ok(page)


async def get_execution(request: Request) -> Response:
    c = ctx(request)
    executions = feature(c.service, "executions")
    if c.settings.auth_token and not getattr(request.state, API_TOKEN_SEEN, False):
        # an approver may read what they are asked to approve; anyone else needs the API token
        if await call(executions.approvers.identify, _bearer(request)) is None:
            raise HTTPException(401, "authentication required; send 'Authorization: Bearer <token>' (the API token "
                                "or an approver credential)", headers={"WWW-Authenticate": 'Bearer realm="faultmaven"'})
    return ok(_view(await call(executions.get, request.path_params["execution_id"])))


async def _decide(request: Request, decision: str) -> Response:
    c = ctx(request)
    executions = feature(c.service, "executions")
    approver = await call(_approver, c, executions, request)
    raw = await request.body()
    body = validate(Decision, await json_body(request) if raw.strip() else {})
    if body.approver and body.approver.casefold() != approver.casefold():
        raise InvalidInput(f"approver is taken from your credential ({approver}); leave it out or send that name")
    result = await call(executions.approve, request.path_params["execution_id"], approver, decision, body.reason,
                        "http")
    c.metrics.inc("faultmaven_approvals_total", decision=decision)
    c.metrics.inc("faultmaven_executions_total", outcome=status_of(result), via="approval")
    return ok(_view(result))


async def approve(request: Request) -> Response:
    return await _decide(request, "approve")


async def reject(request: Request) -> Response:
    return await _decide(request, "reject")


ROUTES = [
    Route("/runbooks/execute", execute, methods=["POST"]),
    Route("/runbooks/plan", plan, methods=["POST"]),
    Route("/runbooks/executions", list_executions, methods=["GET"]),
    Route("/runbooks/executions/{execution_id}", get_execution, methods=["GET"]),
    Route("/runbooks/executions/{execution_id}/approve", approve, methods=["POST"]),
    Route("/runbooks/executions/{execution_id}/reject", reject, methods=["POST"]),
]
