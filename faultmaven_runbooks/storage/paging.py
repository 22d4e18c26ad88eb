"""Cursor paging: keyset on (time, key), newest first, so a page costs the same at any depth
and rows written meanwhile never shift a listing that is being read."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import Select, and_, or_

from ..errors import InvalidInput

T = TypeVar("T")
MAX_LIMIT = 500


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None  # None: this was the last page


def encode(at: dt.datetime, key: str | int) -> str:
    raw = json.dumps([at.isoformat(), key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str) -> tuple[dt.datetime, str | int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, key = json.loads(raw)
        when = dt.datetime.fromisoformat(at)
        if when.tzinfo is None or not isinstance(key, (str, int)) or isinstance(key, bool):
            raise ValueError
        return when, key
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput("cursor is not one this server gave out; start again without a cursor") from None


def check_limit(limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be a whole number from 1 to {MAX_LIMIT}")
    return limit


def keyset(query: Select, time_col, key_col, limit: int, cursor: str | None) -> Select:
    """The query narrowed to one page (plus one row, to tell whether another page follows)."""
    check_limit(limit)
    if cursor:
        at, key = decode(cursor)
        query = query.where(or_(time_col < at, and_(time_col == at, key_col < key)))
    return query.order_by(time_col.desc(), key_col.desc()).limit(limit + 1)


def page_of(rows: Sequence, limit: int, convert: Callable[[object], T],
            position: Callable[[object], tuple[dt.datetime, str | int]]) -> Page[T]:
    more = len(rows) > limit
    rows = rows[:limit]
    return Page([convert(r) for r in rows], encode(*position(rows[-1])) if more else None)
