"""Errors as JSON that says what to fix, for every kind of bad input, and worker-thread calls.

Every error body is {"error", "message", "status", "details"?}; bad input is a 4xx, never a 500.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import compile_path

from ...api.base import describe, problems
from ...errors import RunbookError

log = logging.getLogger(__name__)
T = TypeVar("T")

_HTTP_KIND = {
    400: "invalid_input",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    421: "misdirected_request",
    500: "internal_error",
    503: "unavailable",
}


class ErrorDetail(BaseModel):
    field: str
    problem: str


class ErrorBody(BaseModel):
    error: str
    message: str = "What was wrong and what to do."
    status: int
    details: list[ErrorDetail] | None = None


# Documented on every route: what any request may get besides its answer.
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text} for code, text in (
        (400, "Bad input: the message names each field and what to send"),
        (401, "Missing or wrong bearer token"),
        (403, "Forbidden (e.g. a read-only server, or a token that may not approve)"),
        (404, "Not found"),
        (409, "Conflict with the current state"),
        (413, "Body too large"),
        (415, "The body is not JSON"),
        (421, "Host header not allowed"),
        (503, "The index or the state database cannot answer now; retry"),
    )
}


class BadRequest(Exception):
    """Raised by request parsing; carries a status (400/413/415) and a message for the client."""

    def __init__(self, message: str, status: int = 400, details: list | None = None):
        super().__init__(message)
        self.status = status
        self.details = details


def error_response(status: int, message: str, details: Any = None, headers: dict | None = None) -> JSONResponse:
    body: dict[str, Any] = {"error": _HTTP_KIND.get(status, "error"), "message": message, "status": status}
    if details:
        body["details"] = details
    return JSONResponse(body, status_code=status, headers=headers)


_CPU_SLOTS: anyio.CapacityLimiter | None = None


def _cpu_slots() -> anyio.CapacityLimiter:
    # CPU-bound work (embedding, ranking) gains nothing from more threads than cores: extra
    # threads only fight over the GIL and stretch tail latency. Queue the rest on the event loop.
    global _CPU_SLOTS
    if _CPU_SLOTS is None:
        _CPU_SLOTS = anyio.CapacityLimiter(max(2, (os.cpu_count() or 2)))
    return _CPU_SLOTS


async def call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking service call in a worker thread so the event loop keeps serving."""
    return await anyio.to_thread.run_sync(lambda: fn(*args, **kwargs))


async def call_cpu(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Like `call`, for CPU-bound calls (search): at most one worker thread per core."""
    return await anyio.to_thread.run_sync(lambda: fn(*args, **kwargs), limiter=_cpu_slots())


# -- exception handlers ------------------------------------------------------------------------
async def _bad_request(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BadRequest)
    return error_response(exc.status, str(exc), exc.details)


async def _invalid_request(request: Request, exc: Exception) -> Response:
    # FastAPI's locations start with where the value was: body, query or path.
    assert isinstance(exc, RequestValidationError)
    errors = [{**e, "loc": tuple(e.get("loc", ()))[1:]} for e in exc.errors()]
    return error_response(400, describe(errors), problems(errors))


async def _runbook_error(request: Request, exc: Exception) -> Response:
    return error_response(getattr(exc, "status", 400), str(exc))


async def _validation_error(request: Request, exc: Exception) -> Response:
    # A domain model rejecting data the client sent (e.g. a service validating its input).
    assert isinstance(exc, ValidationError)
    errors = exc.errors(include_url=False)
    return error_response(400, describe(errors), problems(errors))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if exc.status_code == 404 and message == "Not Found":
        message = f"no endpoint at {request.url.path}; see /openapi.json for the API"
    headers = dict(getattr(exc, "headers", None) or {})
    if exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}"
        headers["Allow"] = ", ".join(_methods(request))
    return error_response(exc.status_code, message, headers=headers or None)


def _methods(request: Request) -> list[str]:
    """Every method the API serves on this path (the router names only the first route's)."""
    paths = request.app.openapi().get("paths", {})
    matching = [t for t in paths if compile_path(t)[0].match(request.url.path)]
    # A fixed path wins over a template that would also match it (/runbooks/search, /runbooks/{id}).
    chosen = [t for t in matching if "{" not in t] or matching
    return sorted({m.upper() for t in chosen for m in paths[t]})


async def _unexpected(request: Request, exc: Exception) -> Response:
    # A bug, not bad input: log it in full, tell the client nothing internal.
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(500, "internal error; the server log has the details")


EXCEPTION_HANDLERS: dict[Any, Callable[[Request, Exception], Any]] = {
    BadRequest: _bad_request,
    RequestValidationError: _invalid_request,
    RunbookError: _runbook_error,
    ValidationError: _validation_error,
    HTTPException: _http_error,
    Exception: _unexpected,
}
