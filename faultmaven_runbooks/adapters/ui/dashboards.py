"""Dashboards: Runbook Performance, AI Learning Progress, Storage Health, Incident Trends."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from ...errors import RunbookError
from .charts import DASHBOARDS
from .console import console_of

router = APIRouter()


@router.get("/dashboards")
async def dashboards_page(request: Request) -> Response:
    console = console_of(request)
    session = await console.person(request)
    return console.page(request, "dashboards.html", session=session,
                        boards=[(slug, title) for slug, (title, _) in DASHBOARDS.items()])


@router.get("/dashboards/{slug}")
async def dashboard_page(request: Request, slug: str) -> Response:
    console = console_of(request)
    session = await console.person(request)
    if slug not in DASHBOARDS:
        return console.page(request, "message.html", status=404, session=session, title="No such dashboard",
                            message=f"The dashboards are: {', '.join(t for t, _ in DASHBOARDS.values())}.")
    _, build = DASHBOARDS[slug]
    board = await console.attempt(build, console.service)
    if isinstance(board, RunbookError):
        return console.page(request, "message.html", status=board.status, session=session,
                            title=DASHBOARDS[slug][0], message=str(board))
    return console.page(request, "dashboard.html", session=session, board=board,
                        boards=[(s, t) for s, (t, _) in DASHBOARDS.items()])
