"""What one API call gives back: its text and objects (`Outcome`), or a `KubeError` with a reason."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from kubernetes.client.exceptions import ApiException


class KubeError(Exception):
    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


@dataclass
class Outcome:
    output: str
    diff: str | None = None
    objects: list[tuple[str, dict]] = field(default_factory=list)  # (kind, object) for analysis
    ok: bool = True


def api_message(exc: ApiException) -> str:
    try:
        message = json.loads(exc.body or "{}").get("message") or exc.reason
    except ValueError:
        message = exc.reason
    if exc.status == 403:
        return f"forbidden by the cluster's RBAC (403): {message}"
    if exc.status == 404:
        return f"not found (404): {message}"
    return f"the API answered {exc.status}: {message}"
