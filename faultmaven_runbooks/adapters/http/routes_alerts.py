"""Alert triage records over REST: what the webhooks found for each alert, so a script or an
agent picks up where the webhook left off (Alertmanager itself discards the webhook's answer)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from ...api.alerts import AlertList, GetTriageRequest, ListAlertsRequest, TriageDetail
from .body import CheckedJsonRoute
from .context import ctx
from .responses import ERRORS, call

router = APIRouter(route_class=CheckedJsonRoute, responses=ERRORS, tags=["alerts"])
Fingerprint = Annotated[str, Path(min_length=1, max_length=200, description="The alert's fingerprint.")]


@router.get("/alerts", summary="Alerts seen by the webhooks, most recently seen first, paged with a cursor")
async def list_alerts(request: Request, q: Annotated[ListAlertsRequest, Query()]) -> AlertList:
    return await call(ctx(request).service.list_alerts, q)


@router.get("/alerts/{fingerprint}", summary="One alert's triage record: suggestions with why, dry run, resolution")
async def get_alert(request: Request, fingerprint: Fingerprint) -> TriageDetail:
    return await call(ctx(request).service.get_triage, GetTriageRequest(fingerprint=fingerprint))
