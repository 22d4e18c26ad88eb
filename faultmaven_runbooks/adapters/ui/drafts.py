"""Drafts: runbooks generated from cases and incidents (status draft), each beside the reviewed
runbook search finds closest to it, as a diff. A reviewer publishes (status verified), edits or
rejects one; every change is a new version with the reviewer as its author."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from ...api.runbooks import UpdateRunbookRequest
from ...errors import RunbookError
from ...library.markdown import split_front_matter
from .console import Console, console_of, redirect
from .links import PREFIX
from .render import markdown_html, text_diff

router = APIRouter()


@router.get("/drafts")
async def drafts_page(request: Request) -> Response:
    console = console_of(request)
    session = await console.person(request)
    drafts = await console.call(console.service.list_runbooks, "draft")
    drafts.sort(key=lambda r: (r.last_updated or r.created or "", r.id), reverse=True)
    return console.page(request, "drafts.html", session=session, drafts=drafts, done=request.query_params.get("done"))


def _review(console: Console, runbook_id: str) -> dict[str, Any]:
    service = console.service
    page = service.get_runbook(runbook_id)
    source = service.runbook_source(page.id)
    closest = service.closest_runbook(page.id)
    _, body, _ = split_front_matter(source)
    # Bodies only: the front matter of two runbooks always differs and says little.
    _, compared, _ = split_front_matter(service.runbook_source(closest.id)) if closest is not None else ({}, "", [])
    return {"runbook": page, "body_html": markdown_html(source), "body": body, "closest": closest,
            "lines": text_diff(compared, body, closest.id if closest else "(no similar runbook)", page.id)}


async def _show(request: Request, console: Console, session, runbook_id: str, status: int = 200,
                **extra: Any) -> Response:
    review = await console.attempt(_review, console, runbook_id[:200])
    if isinstance(review, RunbookError):
        return console.page(request, "message.html", status=review.status, session=session, title="Draft",
                            message=str(review))
    return console.page(request, "draft.html", status=status, session=session, **review, **extra)


@router.get("/drafts/{runbook_id}")
async def draft_page(request: Request, runbook_id: str) -> Response:
    console = console_of(request)
    session = await console.person(request)
    return await _show(request, console, session, runbook_id)


def _version(form: dict[str, str]) -> int | None:
    value = form.get("version", "")
    return int(value) if value.isdigit() else None


@router.post("/drafts/{runbook_id}/{action}")
async def review(request: Request, runbook_id: str, action: str) -> Response:
    console = console_of(request)
    session, form = await console.posted(request)
    who = session.who
    today = console.service.clock().date().isoformat()
    fields: dict[str, Any] = {"runbook_id": runbook_id, "author": who, "expected_version": _version(form)}
    if action == "publish":
        fields.update(status="verified", metadata={"last_verified": today, "reviewed_by": who},
                      note=f"published in the console by {who}")
    elif action == "reject":
        reason = (form.get("reason") or "").strip()[:500]
        # Deprecated, not deleted: the text and its history stay, and search can leave it out.
        fields.update(status="deprecated", metadata={"review": "rejected", "rejected_by": who,
                                                     "rejected_reason": reason or None},
                      note=f"rejected in the console by {who}" + (f": {reason}" if reason else ""))
    elif action == "edit":
        fields.update(title=(form.get("title") or "").strip() or None, content=form.get("content") or None,
                      note=f"edited in the console by {who}")
    else:
        return console.page(request, "message.html", status=404, session=session, title="Not found",
                            message="A review is publish, edit or reject.")
    result = await console.attempt(lambda: console.service.update_runbook(UpdateRunbookRequest.of(fields)))
    if isinstance(result, RunbookError):
        return await _show(request, console, session, runbook_id, status=result.status, error=str(result), form=form)
    if action == "edit":
        return await _show(request, console, session, result.id, saved=result.message)
    return redirect(f"{PREFIX}/drafts?done={action}:{result.id}")
