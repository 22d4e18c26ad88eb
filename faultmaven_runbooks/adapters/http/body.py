"""JSON bodies read defensively, before FastAPI sees them.

FastAPI would hand a deeply nested body to a recursive parser and a 5,000-digit number to
int(); here such bodies are refused with a 400 that says what is wrong, and the checked value
is what FastAPI validates against the route's request model.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from .responses import BadRequest

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


def parse_json(raw: bytes) -> Any:
    try:
        data = json.loads(raw, parse_int=_bounded_int)
    except RecursionError:
        raise BadRequest(f"the body nests deeper than {MAX_JSON_DEPTH} levels; flatten it") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(f"the body is not valid JSON: {exc}") from None
    _check_tree(data)
    return data


class CheckedJsonRoute(APIRoute):
    """An API route whose JSON body (if it takes one) is a checked JSON object."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if self.body_field is None:
            return handler
        required = self.body_field.field_info.is_required()

        async def checked(request: Request) -> Response:
            ctype = request.headers.get("content-type", "")
            if ctype and not ctype.split(";")[0].strip().lower().endswith("json"):
                raise BadRequest(f"send the body as application/json, not {ctype!r}", status=415)
            raw = await request.body()
            if raw.strip():
                data = parse_json(raw)
                if data is None and not required:
                    data = {}  # `null` for an optional body: the same as none
                if not isinstance(data, dict):
                    raise BadRequest(f"the body must be a JSON object, got {type(data).__name__}")
                request._json = data  # what FastAPI validates: the checked value, parsed once
            elif required:
                raise BadRequest("the request body is empty; send a JSON object")
            return await handler(request)

        return checked
