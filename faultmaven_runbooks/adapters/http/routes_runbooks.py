"""The specification's /runbooks API: search, read, create, update, learn, patterns, health."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from ...api.base import PageRequest
from ...api.learning import LearnRequest, PatternsResponse
from ...api.runbooks import CreateRunbookRequest, RunbookChanges, UpdateRunbookRequest
from ...api.search import GetRunbookRequest, RunbookPageQuery, SearchRequest
from ...learning.service import LearnResult
from ...library.authoring import WriteResult
from ...models import RunbookPage, SearchResponse
from .body import CheckedJsonRoute
from .context import ctx
from .responses import ERRORS, call, call_cpu

router = APIRouter(route_class=CheckedJsonRoute, responses=ERRORS)
RunbookIdPath = Annotated[str, Path(max_length=500, description="Id (any case), alert name or runbook_url.")]


@router.get("/runbooks/health", tags=["operations"], summary="Health (no auth)", openapi_extra={"security": []},
            responses={503: {"description": "Unhealthy: the index cannot answer"}})
async def health(request: Request) -> dict[str, Any]:
    try:
        return await call(ctx(request).service.health)
    except Exception as exc:  # health must answer even when the index is broken
        return JSONResponse({"status": "unhealthy", "error": str(exc)}, status_code=503)  # type: ignore[return-value]


async def search(request: Request, q: Annotated[SearchRequest, Query()]) -> Response:
    c = ctx(request)
    result = await call_cpu(c.service.search, q)
    c.metrics.found(request.url.path, [h.id for h in result.results])
    # The hot path: serialised once in Rust, not validated again against the response model.
    return Response(result.model_dump_json(), media_type="application/json")


async def read_runbook(request: Request, runbook_id: RunbookIdPath,
                       q: Annotated[RunbookPageQuery, Query()]) -> RunbookPage:
    c = ctx(request)
    page = await call(c.service.get_runbook, GetRunbookRequest(runbook_id=runbook_id, **q.model_dump()))
    c.metrics.runbook_reads.labels(runbook_id=page.id).inc()
    return page


async def create(request: Request, body: CreateRunbookRequest) -> WriteResult:
    if body.author is None:
        body = body.model_copy(update={"author": "http-api"})
    return await call(ctx(request).service.create_runbook, body)


SEARCH_ANSWER: dict[int | str, dict[str, Any]] = {200: {"model": SearchResponse, "description": "Runbooks found"}}
router.add_api_route("/runbooks/search", search, methods=["GET"], tags=["runbooks"], summary="Search runbooks",
                     response_model=None, responses=SEARCH_ANSWER)
router.add_api_route("/runbooks/create", create, methods=["POST"], status_code=201, tags=["runbooks"],
                     summary="Create a runbook")


@router.post("/runbooks/learn", tags=["learning"], summary="Learn from a resolved incident")
async def learn(request: Request, body: LearnRequest) -> LearnResult:
    return await call(ctx(request).service.learn, body)


@router.get("/runbooks/patterns", tags=["learning"], summary="Learned incident patterns, a page at a time")
async def patterns(request: Request, q: Annotated[PageRequest, Query()]) -> PatternsResponse:
    return await call(ctx(request).service.patterns, q)


# The catch-all id routes come last so they never shadow the fixed paths above.
router.add_api_route("/runbooks/{runbook_id}", read_runbook, methods=["GET"], tags=["runbooks"],
                     summary="Read a runbook (paged; one section with ?section=)")


@router.put("/runbooks/{runbook_id}", tags=["runbooks"], summary="Update a runbook (the previous version is kept)")
async def update(request: Request, runbook_id: Annotated[str, Path(max_length=100)],
                 body: Annotated[RunbookChanges, Body()]) -> WriteResult:
    fields = body.model_dump(exclude_unset=True)
    fields.setdefault("author", "http-api")
    return await call(ctx(request).service.update_runbook,
                      UpdateRunbookRequest.of({**fields, "runbook_id": runbook_id}))
