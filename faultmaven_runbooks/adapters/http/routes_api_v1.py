"""FaultMaven's /api/v1 runbook API (the runbook-creation feature's design)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse

from ...api.runbooks import CaseRunbookRequest
from ...api.search import plain
from ...errors import InvalidInput
from ...learning.case_runbooks import CaseRunbookResult
from . import routes_runbooks as rb
from .body import CheckedJsonRoute
from .context import ctx
from .responses import ERRORS, call

router = APIRouter(route_class=CheckedJsonRoute, responses=ERRORS, tags=["faultmaven"])
router.add_api_route("/api/v1/runbooks", rb.create, methods=["POST"], status_code=201,
                     summary="Create a runbook (FaultMaven API)")
router.add_api_route("/api/v1/runbooks/search", rb.search, methods=["GET"], summary="Search runbooks (FaultMaven API)",
                     response_model=None, responses=rb.SEARCH_ANSWER)
router.add_api_route("/api/v1/runbooks/{runbook_id}", rb.read_runbook, methods=["GET"],
                     summary="Read a runbook (FaultMaven API)")


@router.post("/api/v1/cases/{case_id}/runbook", summary="A runbook from a resolved case: a new draft (201) or "
             "the existing runbook that covers it (200)", responses={201: {"model": CaseRunbookResult}})
async def case_runbook(request: Request, case_id: Annotated[str, Path(max_length=200)],
                       body: CaseRunbookRequest) -> CaseRunbookResult:
    """Body: {"case": {...}, "force": false}, or the case object itself."""
    case = plain(body.case)
    if isinstance(case, str):  # the case as JSON text
        try:
            case = json.loads(case)
        except ValueError:
            case = None
    if not isinstance(case, dict):
        raise InvalidInput("send the case as a JSON object: the case itself, or {'case': {...}, 'force': false}")
    given = case.get("case_id") or case.get("id")
    if given and given != case_id:
        raise InvalidInput(f"the body's case_id {given!r} does not match the URL's {case_id!r}")
    request_ = CaseRunbookRequest(case={**case, "case_id": case_id}, force=body.force)
    result = await call(ctx(request).service.runbook_from_case, request_)
    return JSONResponse(result.model_dump(mode="json"), status_code=201 if result.created else 200)  # type: ignore[return-value]
