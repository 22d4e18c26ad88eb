"""Delivery rules: which answers count, which are worth another try, how long to wait, and the
record every try leaves (`DeliveryLog`, kept by storage/deliveries.py)."""

from __future__ import annotations

import datetime as dt
import email.utils
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

# Worth another try: the receiver is busy or broken for now. Any other 4xx means the request
# itself is wrong (a revoked Slack webhook answers 404, a bad routing key 400): retrying cannot help.
RETRYABLE = {408, 425, 429}


class DeliveryLog(Protocol):
    """Where deliveries are recorded, one record per (event key, channel)."""

    def claim(self, event_key: str, channel: str, event: dict[str, Any]) -> bool:
        """Start the delivery: True for exactly one caller per (event key, channel), across threads
        and replicas, unless an earlier one was cut short by a shutdown (then it may be claimed again)."""
        ...

    def record_attempt(self, event_key: str, channel: str, *, status_code: int | None, error: str | None) -> None:
        ...

    def delivered(self, event_key: str, channel: str) -> None:
        ...

    def dead_letter(self, event_key: str, channel: str, reason: str) -> None:
        """The last try failed (or the receiver refused the request): keep it for an operator."""
        ...

    def undelivered(self, event_key: str, channel: str, reason: str) -> None:
        """Shutdown came first: the delivery may be claimed again and finished at the next start."""
        ...

    def unfinished(self, limit: int) -> list[dict[str, Any]]:
        """Events whose delivery a shutdown cut short, oldest first (the events as claimed)."""
        ...


@dataclass(frozen=True)
class Attempt:
    ok: bool
    retry: bool
    status_code: int | None = None
    error: str | None = None
    retry_after: float | None = None


def retry_after_seconds(value: str | None, now: dt.datetime) -> float | None:
    """Retry-After as seconds: either delay-seconds or an HTTP date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - now).total_seconds())


def judge(status: int, headers: httpx.Headers, body: bytes, now: dt.datetime) -> Attempt:
    """What an answer means: `body` is its first bytes (enough for an error message)."""
    if 200 <= status < 300:
        return Attempt(ok=True, retry=False, status_code=status)
    text = body[:200].decode("utf-8", "replace").strip()
    error = f"HTTP {status}" + (f": {text}" if text else "")
    if 300 <= status < 400:
        # Never followed: the body carries the routing key, and a redirect would hand it to
        # whatever host the receiver names.
        return Attempt(ok=False, retry=False, status_code=status, error=f"{error} (redirects are not followed)")
    retry = status in RETRYABLE or status >= 500
    wait = retry_after_seconds(headers.get("Retry-After"), now) if retry else None
    return Attempt(ok=False, retry=retry, status_code=status, error=error, retry_after=wait)


def failed_to_send(exc: httpx.HTTPError) -> Attempt:
    """No answer at all (refused, reset, timed out): worth another try."""
    return Attempt(ok=False, retry=True, error=f"{type(exc).__name__}: {exc}".rstrip(": "))


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter, capped: try n waits about base * 2**(n-1), somewhere in the
    upper half of that (half fixed, so waits grow for sure; half random, so many senders that failed
    together do not retry together). A receiver's Retry-After wins, up to the same cap."""

    base: float
    cap: float

    def delay(self, attempt: int, retry_after: float | None, rand: Callable[[], float]) -> float:
        if retry_after is not None:
            return min(retry_after, self.cap)
        full = min(self.cap, self.base * 2 ** (attempt - 1))
        return full / 2 + rand() * full / 2
