"""Library: search with the same engine as the agents, runbooks rendered from markdown (their own
HTML escaped), every runbook's history and the diff between any two of its versions."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from ...api.runbooks import DiffRequest, HistoryRequest
from ...api.search import SearchRequest
from ...errors import RunbookError
from ...models import RUNBOOK_TYPES, SEVERITIES
from .console import Console, console_of
from .render import diff_lines, markdown_html

router = APIRouter()
RESULTS = 20


def _statuses(console: Console) -> dict[str, str | None]:
    return {info.id: info.status for info in console.service.list_runbooks()}


def _search(console: Console, q: str, type: str | None, severity: str | None):
    answer = console.service.search(SearchRequest.of({"query": q, "type": type or None, "severity": severity or None,
                                                      "limit": RESULTS}))
    return answer, _statuses(console)


@router.get("/library")
async def library_page(request: Request, q: str = "", type: str = "", severity: str = "") -> Response:
    console = console_of(request)
    session = await console.person(request)
    q = q.strip()[:500]
    answer, listing, error, statuses = None, None, None, {}
    if q:
        found = await console.attempt(_search, console, q, type, severity)
        if isinstance(found, RunbookError):
            error = found
        else:
            answer, statuses = found
    else:
        listing = await console.call(console.service.list_runbooks)
    return console.page(request, "library.html", status=error.status if error else 200, session=session, q=q,
                        type=type, severity=severity, types=RUNBOOK_TYPES, severities=SEVERITIES, answer=answer,
                        statuses=statuses, listing=listing, error=str(error) if error else None)


def _runbook(console: Console, runbook_id: str):
    page = console.service.get_runbook(runbook_id)
    source = console.service.runbook_source(page.id)
    history = console.service.runbook_history(HistoryRequest(runbook_id=page.id, limit=50))
    return page, markdown_html(source), history


@router.get("/library/{runbook_id}")
async def runbook_page(request: Request, runbook_id: str) -> Response:
    console = console_of(request)
    session = await console.person(request)
    found = await console.attempt(_runbook, console, runbook_id[:200])
    if isinstance(found, RunbookError):
        return console.page(request, "message.html", status=found.status, session=session, title="Runbook",
                            message=str(found))
    page, body, history = found
    return console.page(request, "runbook.html", session=session, runbook=page, body=body, history=history)


@router.get("/library/{runbook_id}/diff")
async def diff_page(request: Request, runbook_id: str, from_version: int = 1,
                    to_version: int | None = None) -> Response:
    console = console_of(request)
    session = await console.person(request)
    diff = await console.attempt(
        lambda: console.service.runbook_diff(DiffRequest.of({"runbook_id": runbook_id, "from_version": from_version,
                                                             "to_version": to_version})))
    if isinstance(diff, RunbookError):
        return console.page(request, "message.html", status=diff.status, session=session, title="Diff",
                            message=str(diff))
    return console.page(request, "diff.html", session=session, diff=diff, lines=diff_lines(diff.diff))
