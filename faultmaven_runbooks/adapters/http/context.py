"""What every route needs: the service (read-only view on a --read-only server), the settings
and the metrics, hung on app.state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from ...settings import Settings
from ..metrics import Metrics


@dataclass
class AppContext:
    service: Any  # RunbookService, or its ReadOnlyService view
    settings: Settings
    metrics: Metrics


def ctx(request: Request) -> AppContext:
    return request.app.state.ctx
