"""Executions: plans waiting for a person first, each with its cluster, requester, a diff per
change and the findings; approve or reject with a reason. The approver is the signed-in person,
and the executor refuses the requester (executor/approvals.py), which the page shows."""

from __future__ import annotations

import re

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from ...api.executions import ListExecutionsRequest
from ...errors import NotFound, RunbookError
from .console import Console, console_of
from .render import diff_lines

router = APIRouter()
EXECUTION_ID = re.compile(r"^exec-[0-9a-f]{12}$")
PENDING_SHOWN = 50
RECENT_SHOWN = 20
VIA = "console"


@router.get("/executions")
async def executions_page(request: Request) -> Response:
    console = console_of(request)
    session = await console.person(request)
    service = console.service
    waiting = await console.call(service.list_executions,
                                 ListExecutionsRequest(status="awaiting_approval", limit=PENDING_SHOWN))
    pending = [await console.call(service.get_execution, row.execution_id) for row in waiting.executions]
    recent = await console.call(service.list_executions, ListExecutionsRequest(limit=RECENT_SHOWN))
    return console.page(request, "executions.html", session=session, pending=pending,
                        more_pending=waiting.next_cursor is not None, diff_lines=diff_lines,
                        recent=[r for r in recent.executions if r.status != "awaiting_approval"])


@router.get("/executions/{execution_id}")
async def execution_page(request: Request, execution_id: str) -> Response:
    console = console_of(request)
    session = await console.person(request)
    record = await console.attempt(_record, console, execution_id)
    if isinstance(record, RunbookError):
        return console.page(request, "message.html", status=record.status, session=session,
                            title="Execution not found", message=str(record))
    return console.page(request, "execution.html", session=session, record=record, diff_lines=diff_lines)


def _record(console: Console, execution_id: str):
    if not EXECUTION_ID.match(execution_id):
        raise NotFound(f"{execution_id!r} is not an execution id (exec-<12 hex digits>)")
    return console.service.get_execution(execution_id)


@router.post("/executions/{execution_id}/{decision}")
async def decide(request: Request, execution_id: str, decision: str) -> Response:
    console = console_of(request)
    session, form = await console.posted(request)
    if decision not in ("approve", "reject"):
        return console.page(request, "message.html", status=404, session=session, title="Not found",
                            message="A decision is approve or reject.")
    reason = (form.get("reason") or "").strip()[:2000] or None
    result = await console.attempt(_decide, console, execution_id, session.who, decision, reason)
    if not isinstance(result, RunbookError):
        console.metrics.approvals.labels(decision=decision).inc()
        console.metrics.ran("approval", result.runbook_id, result.outcome)
        return console.page(request, "execution.html", session=session, record=result, diff_lines=diff_lines,
                            decided=decision)
    # Refused (the requester, an expired or decided plan, another cluster): show why, beside the plan.
    record = await console.attempt(_record, console, execution_id)
    if isinstance(record, RunbookError):
        return console.page(request, "message.html", status=record.status, session=session,
                            title="Execution not found", message=str(record))
    return console.page(request, "execution.html", status=result.status, session=session, record=record,
                        diff_lines=diff_lines, refusal=str(result))


def _decide(console: Console, execution_id: str, approver: str, decision: str, reason: str | None):
    if not EXECUTION_ID.match(execution_id):
        raise NotFound(f"{execution_id!r} is not an execution id (exec-<12 hex digits>)")
    return console.service.decide(execution_id, approver, decision, reason, VIA)
