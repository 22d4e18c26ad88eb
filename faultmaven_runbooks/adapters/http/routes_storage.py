"""Storage and operations: disk usage, backups, runbook analytics."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .context import ctx, query_dict
from .responses import call, feature, json_body, ok, validate
from .schemas import PageCursor


class BackupRequest(BaseModel):
    kind: Literal["daily", "weekly", "monthly"] = "daily"


class AnalyticsQuery(PageCursor):
    runbook_id: str | None = Field(None, max_length=200)
    stale_only: bool = False


def _dir_usage(path: Path) -> dict:
    files = size = 0
    if path.is_dir():
        for dirpath, _dirs, names in os.walk(path):
            for name in names:
                try:
                    size += os.lstat(os.path.join(dirpath, name)).st_size
                    files += 1
                except OSError:
                    continue  # a file removed while we walk is not an error
    return {"path": str(path), "exists": path.is_dir(), "files": files, "bytes": size}


def storage_dirs(service) -> dict[str, Path]:
    s = service.settings
    data = Path(s.data_dir)
    backups = getattr(getattr(service, "backups", None), "root", None) or data / "backups"
    index = next((data / n for n in ("index", "chroma") if (data / n).exists()), data / "index")
    return {"library": Path(s.library_dir), "index": index, "data": data, "backups": Path(backups)}


async def storage_usage(request: Request) -> Response:
    c = ctx(request)
    started = time.perf_counter()

    def measure() -> dict:
        dirs = {name: _dir_usage(path) for name, path in storage_dirs(c.service).items()}
        try:
            st = os.statvfs(c.settings.data_dir)
            disk = {"total_bytes": st.f_blocks * st.f_frsize, "free_bytes": st.f_bavail * st.f_frsize}
        except OSError:
            disk = None
        return {"storage": dirs, "disk": disk}

    report = await call(measure)
    report["scan_time"] = f"{time.perf_counter() - started:.3f}s"
    return ok(report)


async def backups_list(request: Request) -> Response:
    items = await call(feature(ctx(request).service, "backups").list)
    return ok({"backups": items, "count": len(items)})


async def backups_create(request: Request) -> Response:
    # An empty body means the default kind; restore stays on the CLI (it replaces live data).
    raw = await request.body()
    body = validate(BackupRequest, await json_body(request) if raw.strip() else {})
    return ok(await call(feature(ctx(request).service, "backups").backup, body.kind), status=201)


async def analytics(request: Request) -> Response:
    q = validate(AnalyticsQuery, query_dict(request))
    return ok(await call(feature(ctx(request).service, "analytics").report, q.runbook_id, cursor=q.cursor,
                         limit=q.limit, stale_only=q.stale_only))


ROUTES = [
    Route("/storage/usage", storage_usage, methods=["GET"]),
    Route("/storage/backups", backups_list, methods=["GET"]),
    Route("/storage/backups", backups_create, methods=["POST"]),
    Route("/runbooks/analytics", analytics, methods=["GET"]),
]
