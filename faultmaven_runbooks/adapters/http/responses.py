"""JSON responses and the mapping from every kind of bad input to a 4xx body that says what to fix."""

from __future__ import annotations

import json
import logging
import os
from typing import Any

import anyio.to_thread
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ...errors import RunbookError

log = logging.getLogger(__name__)

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


def jsonable(value: Any) -> Any:
    """Pydantic models, dataclass-like objects and plain containers, as JSON-ready data."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "__dict__"):
        return {k: jsonable(v) for k, v in vars(value).items() if not k.startswith("_")}
    return str(value)


def ok(value: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(jsonable(value), status_code=status)


_SEARCH_SLOTS: anyio.CapacityLimiter | None = None


def _search_slots() -> anyio.CapacityLimiter:
    # CPU-bound work (embedding, ranking) gains nothing from more threads than cores: extra
    # threads only fight over the GIL and stretch tail latency. Queue the rest on the event loop.
    global _SEARCH_SLOTS
    if _SEARCH_SLOTS is None:
        _SEARCH_SLOTS = anyio.CapacityLimiter(max(2, (os.cpu_count() or 2)))
    return _SEARCH_SLOTS


async def call(fn, *args, **kwargs) -> Any:
    """Run a blocking service call in a worker thread so the event loop keeps serving."""
    return await anyio.to_thread.run_sync(lambda: fn(*args, **kwargs))


async def call_cpu(fn, *args, **kwargs) -> Any:
    """Like `call`, for CPU-bound calls (search): at most one worker thread per core."""
    return await anyio.to_thread.run_sync(lambda: fn(*args, **kwargs), limiter=_search_slots())


def feature(service: Any, name: str) -> Any:
    """A feature service hanging off RunbookService, or a 503 saying it is not configured."""
    obj = getattr(service, name, None)
    if obj is None:
        raise HTTPException(503, f"the '{name}' feature is not available in this deployment")
    return obj


# -- request parsing ---------------------------------------------------------------------------
MAX_JSON_DEPTH = 64
MAX_INT_DIGITS = 40


def _bounded_int(text: str) -> int:
    # int() of thousands of digits is slow and, past 4,300, an error Python raises mid-parse.
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise BadRequest(f"a number in the body has {len(text)} digits; the limit is {MAX_INT_DIGITS}")
    return int(text)


def _check_tree(data: Any) -> None:
    """Depth and string checks, iteratively (a recursive walk is what deep nesting attacks)."""
    stack = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise BadRequest(f"the body nests deeper than {MAX_JSON_DEPTH} levels; flatten it")
        if isinstance(node, dict):
            for key, value in node.items():
                _check_text(key)
                stack.append((value, depth + 1))
        elif isinstance(node, list):
            stack.extend((value, depth + 1) for value in node)
        elif isinstance(node, str):
            _check_text(node)


def _check_text(text: str) -> None:
    if "\x00" in text:
        # NUL cuts strings short in C libraries and file systems: never data we store.
        raise BadRequest("the body contains a NUL character (\\u0000); remove it")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequest("the body contains an unpaired surrogate (\\ud800-\\udfff); send valid UTF-16 pairs") from None


async def json_body(request: Request) -> Any:
    ctype = request.headers.get("content-type", "")
    if ctype and not ctype.split(";")[0].strip().lower().endswith("json"):
        raise BadRequest(f"send the body as application/json, not {ctype!r}", status=415)
    raw = await request.body()
    if not raw.strip():
        raise BadRequest("the request body is empty; send a JSON object")
    try:
        data = json.loads(raw, parse_int=_bounded_int)
    except RecursionError:
        raise BadRequest(f"the body nests deeper than {MAX_JSON_DEPTH} levels; flatten it") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(f"the body is not valid JSON: {exc}") from None
    _check_tree(data)
    return data


async def parse_body(request: Request, model: type[BaseModel]) -> Any:
    data = await json_body(request)
    if not isinstance(data, dict):
        raise BadRequest(f"the body must be a JSON object, got {type(data).__name__}")
    return validate(model, data)


def validate(model: type[BaseModel], data: Any) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise BadRequest(_summarise(exc), details=_details(exc)) from None


def _details(exc: ValidationError) -> list[dict]:
    return [
        {"field": ".".join(str(p) for p in err["loc"]) or "(body)", "problem": err["msg"]}
        for err in exc.errors(include_url=False, include_input=False)
    ]


def _summarise(exc: ValidationError) -> str:
    parts = [f"{d['field']}: {d['problem']}" for d in _details(exc)[:5]]
    return "invalid request: " + "; ".join(parts)


# -- exception handlers ------------------------------------------------------------------------
async def _bad_request(request: Request, exc: BadRequest) -> Response:
    return error_response(exc.status, str(exc), exc.details)


async def _runbook_error(request: Request, exc: RunbookError) -> Response:
    return error_response(getattr(exc, "status", 400), str(exc))


async def _validation_error(request: Request, exc: ValidationError) -> Response:
    # A domain model rejecting data the client sent (e.g. a service validating kwargs).
    return error_response(400, _summarise(exc), _details(exc))


async def _http_error(request: Request, exc: HTTPException) -> Response:
    message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if exc.status_code == 404 and message == "Not Found":
        message = f"no endpoint at {request.url.path}; see /openapi.json for the API"
    if exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}"
    return error_response(exc.status_code, message, headers=getattr(exc, "headers", None))


async def _unexpected(request: Request, exc: Exception) -> Response:
    # A bug, not bad input: log it in full, tell the client nothing internal.
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(500, "internal error; the server log has the details")


EXCEPTION_HANDLERS = {
    BadRequest: _bad_request,
    RunbookError: _runbook_error,
    ValidationError: _validation_error,
    HTTPException: _http_error,
    Exception: _unexpected,
}
