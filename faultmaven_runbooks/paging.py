"""Cursor paging for the lists an agent reads (analytics, patterns, history, resources).

A page is small by default, and its `next_cursor` is opaque: it names the list it came from
and the sort key of the last item returned, so the next page starts right after that item even
when items were added or removed in between (no duplicates, no skipped rows).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from .errors import InvalidInput

T = TypeVar("T")

DEFAULT_LIMIT = 10
MAX_LIMIT = 100


def encode_cursor(scope: str, key: Any) -> str:
    raw = json.dumps([scope, key], separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(scope: str, cursor: str) -> Any:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        found, key = json.loads(raw)
    except (ValueError, TypeError):
        raise InvalidInput("cursor is not one this server gave out; omit it to start from the first page") from None
    if found != scope:
        raise InvalidInput(f"this cursor belongs to another list ({found}), not {scope}; omit it to start again")
    return key


def check_limit(limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}, got {limit!r}")
    return limit


def page(items: Sequence[T], key: Callable[[T], Any], scope: str, cursor: str | None = None,
         limit: int = DEFAULT_LIMIT) -> tuple[list[T], str | None]:
    """(this page, cursor of the next page or None). `items` must be sorted by `key`, and keys
    must be unique and JSON values (lists compare like tuples)."""
    limit = check_limit(limit)
    rest = list(items)
    if cursor:
        after = decode_cursor(scope, cursor)
        try:
            rest = [item for item in rest if _jsonable(key(item)) > after]
        except TypeError:  # a hand-made cursor whose key has another shape
            raise InvalidInput("cursor is not one this server gave out; omit it to start from the first page") from None
    shown = rest[:limit]
    more = len(rest) > limit
    return shown, encode_cursor(scope, _jsonable(key(shown[-1]))) if more and shown else None


def _jsonable(key: Any) -> Any:
    """Keys round-trip through JSON: tuples come back as lists, so compare them as lists."""
    return list(key) if isinstance(key, tuple) else key
