"""The one source of "now". Features take a clock instead of reading the wall clock, so tests can
fix the date and nothing they assert depends on the day they run."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
