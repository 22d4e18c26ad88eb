"""The one source of "now", and the one lenient reader of the times other systems send.

Features take a clock instead of reading the wall clock, so tests can fix the date and nothing
they assert depends on the day they run."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def parse_time(value: object) -> dt.datetime | None:
    """An ISO 8601 / RFC 3339 time as senders write it: a `Z` suffix, fractions past microseconds
    (Go writes nanoseconds) cut to six digits, no zone meaning UTC; None when empty or no time."""
    if not value:
        return None
    text = str(value).strip().replace("Z", "+00:00")
    head, dot, rest = text.partition(".")
    if dot:  # Python reads at most microseconds
        digits = len(rest) - len(rest.lstrip("0123456789"))
        text = f"{head}.{rest[:min(digits, 6)]}{rest[digits:]}"
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)
