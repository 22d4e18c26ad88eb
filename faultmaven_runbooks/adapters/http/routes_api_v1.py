"""FaultMaven's /api/v1 runbook API (the runbook-creation feature's design)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...errors import InvalidInput
from .context import ctx
from .responses import BadRequest, call, feature, json_body, ok, validate
from .routes_runbooks import create, get_runbook, search
from .schemas import CaseRunbookRequest


async def case_runbook(request: Request) -> Response:
    """Body: {"case": {...}, "force": false}, or the case object itself."""
    c = ctx(request)
    data = await json_body(request)
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object: the case, or {'case': {...}, 'force': bool}")
    body = validate(CaseRunbookRequest, data if "case" in data else {"case": data})
    case_id = request.path_params["case_id"]
    given = body.case.get("case_id") or body.case.get("id")
    if given and given != case_id:
        raise InvalidInput(f"the body's case_id {given!r} does not match the URL's {case_id!r}")
    case = {**body.case, "case_id": case_id}
    result = await call(feature(c.service, "authoring").create_from_case, case, body.force)
    return ok(result, status=201 if _created(result) else 200)


def _created(result) -> bool:
    value = result.get("created") if isinstance(result, dict) else getattr(result, "created", None)
    return bool(value)


ROUTES = [
    Route("/api/v1/runbooks", create, methods=["POST"]),
    Route("/api/v1/runbooks/search", search, methods=["GET"]),
    Route("/api/v1/runbooks/{runbook_id}", get_runbook, methods=["GET"]),
    Route("/api/v1/cases/{case_id}/runbook", case_runbook, methods=["POST"]),
]
