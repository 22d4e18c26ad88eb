"""Operations: storage usage, backups, runbook analytics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from ...api.learning import AnalyticsRequest, AnalyticsResponse
from ...api.ops import Backup, BackupList, BackupRequest, StorageUsage
from .body import CheckedJsonRoute
from .context import ctx
from .responses import ERRORS, call

router = APIRouter(route_class=CheckedJsonRoute, responses=ERRORS, tags=["operations"])


@router.get("/storage/usage", summary="Storage used by library, index, data and backups")
async def storage_usage(request: Request) -> StorageUsage:
    return await call(ctx(request).service.storage_usage)


@router.get("/storage/backups", summary="List backups")
async def backups_list(request: Request) -> BackupList:
    return await call(ctx(request).service.list_backups)


@router.post("/storage/backups", status_code=201, summary="Back up library and data now (empty body: daily)")
async def backups_create(request: Request, body: BackupRequest | None = None) -> Backup:
    # Restore stays on the CLI: it replaces live data.
    return await call(ctx(request).service.backup, body or BackupRequest())


@router.get("/runbooks/analytics", summary="Runbook usage and effectiveness, a page at a time")
async def analytics(request: Request, q: Annotated[AnalyticsRequest, Query()]) -> AnalyticsResponse:
    return await call(ctx(request).service.runbook_analytics, q)
