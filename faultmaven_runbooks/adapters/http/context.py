"""What every route needs: the service, the settings and the metrics, hung on app.state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from ...settings import Settings
from .config import HttpSettings
from .metrics import Metrics


@dataclass
class AppContext:
    service: Any  # RunbookService; typed loosely so this layer never imports heavy search code
    settings: Settings
    http: HttpSettings
    metrics: Metrics


def ctx(request: Request) -> AppContext:
    return request.app.state.ctx


def query_dict(request: Request, lists: tuple[str, ...] = ()) -> dict[str, Any]:
    """Query parameters as a dict; names in `lists` split on commas (and may repeat)."""
    out: dict[str, Any] = {}
    for key in request.query_params.keys():
        values = request.query_params.getlist(key)
        if key in lists:
            out[key] = [v.strip() for raw in values for v in raw.split(",") if v.strip()]
        else:
            out[key] = values[-1]
    return out


def status_of(result: Any) -> str:
    """The 'status' of a service result, whether it is a model or a dict."""
    value = result.get("status") if isinstance(result, dict) else getattr(result, "status", None)
    return str(value or "unknown")
