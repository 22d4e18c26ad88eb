"""The specification's /runbooks REST API: search, read, create, update, learn, health, storage."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..errors import InvalidInput
from .context import ctx, query_dict
from .responses import call, call_cpu, feature, ok, parse_body, validate
from .schemas import LearnRequest, PageQuery, RunbookWrite, SearchQuery


async def search(request: Request) -> Response:
    c = ctx(request)
    q = validate(SearchQuery, query_dict(request, lists=("tags",)))
    result = await call_cpu(c.service.search, q.q, type=q.type, severity=q.severity, tags=q.tags, limit=q.limit,
                            status=q.status)
    c.metrics.inc("faultmaven_searches_total", entry=request.url.path)
    return ok(result)


async def get_runbook(request: Request) -> Response:
    c = ctx(request)
    q = validate(PageQuery, query_dict(request))
    page = await call(c.service.get_runbook, request.path_params["runbook_id"], section=q.section, page=q.page)
    return ok(page)


async def create(request: Request) -> Response:
    c = ctx(request)
    body: RunbookWrite = await parse_body(request, RunbookWrite)
    if not body.title or not body.content:
        raise InvalidInput("a new runbook needs 'title' and 'content' (markdown)")
    if body.note is not None or body.expected_version is not None:
        raise InvalidInput("'note' and 'expected_version' apply to updates (PUT /runbooks/{id}), not creation")
    fields = {"title": body.title, "content": body.content, "tags": body.tags, "metadata": body.metadata_with_extras(),
              "runbook_id": body.id, "folder": body.folder, "author": body.author or "http-api"}
    for key in ("type", "severity"):
        if getattr(body, key) is not None:
            fields[key] = getattr(body, key)
    result = await call(feature(c.service, "authoring").create_runbook, **fields)
    return ok(result, status=201)


async def update(request: Request) -> Response:
    c = ctx(request)
    body: RunbookWrite = await parse_body(request, RunbookWrite)
    if body.id is not None or body.folder is not None:
        raise InvalidInput("'id' and 'folder' cannot change on update: ids are stable; the URL names the runbook")
    fields = {k: getattr(body, k) for k in ("title", "content", "type", "severity", "tags", "expected_version", "note")}
    fields["metadata"] = body.metadata_with_extras()
    if all(v is None for v in fields.values()):
        raise InvalidInput("nothing to update: send at least one of title, content, tags, severity, type, metadata")
    fields["author"] = body.author or "http-api"
    result = await call(feature(c.service, "authoring").update_runbook, request.path_params["runbook_id"], **fields)
    return ok(result)


async def learn(request: Request) -> Response:
    c = ctx(request)
    body = await parse_body(request, LearnRequest)
    result = await call(feature(c.service, "learning").learn, body.incident_data, body.context)
    return ok(result)


async def patterns(request: Request) -> Response:
    c = ctx(request)
    return ok(await call(feature(c.service, "learning").get_patterns))


async def health(request: Request) -> Response:
    c = ctx(request)
    try:
        report = await call(c.service.health)
    except Exception as exc:  # health must answer even when the index is broken
        return JSONResponse({"status": "unhealthy", "error": str(exc)}, status_code=503)
    return ok(report)


ROUTES = [
    Route("/runbooks/health", health, methods=["GET"]),
    Route("/runbooks/search", search, methods=["GET"]),
    Route("/runbooks/create", create, methods=["POST"]),
    Route("/runbooks/learn", learn, methods=["POST"]),
    Route("/runbooks/patterns", patterns, methods=["GET"]),
    # Keep the catch-all id routes last so they never shadow the fixed paths above.
    Route("/runbooks/{runbook_id}", get_runbook, methods=["GET"]),
    Route("/runbooks/{runbook_id}", update, methods=["PUT"]),
]
