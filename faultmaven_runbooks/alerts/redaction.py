"""Secrets out of every log line, error and stored record of the notification path.

A Slack webhook URL or a PagerDuty routing key in a log is a leak: whoever reads the logs (a
log shipper, a support bundle) can post to the channel or page people. The notifier passes
every error through `Redactor.text`, and `RedactingFilter` rewrites log records of the loggers
that see request URLs (httpx logs every request line at INFO, URL included).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from urllib.parse import quote, unquote, urlsplit

MASK = "[redacted]"
# Shorter strings are not treated as secrets: masking "a" everywhere would garble every message.
MIN_SECRET = 6


def _variants(secret: str) -> set[str]:
    """The forms a secret may take in a message: as given, percent-encoded or decoded, and for a
    URL its path and query alone (the part that carries the token)."""
    found = {secret, quote(secret, safe=":/?&=@"), unquote(secret)}
    parts = urlsplit(secret)
    if parts.scheme and parts.netloc:
        tail = parts.path + (f"?{parts.query}" if parts.query else "")
        found |= {tail, unquote(tail), parts.query}
    return {v for v in found if len(v) >= MIN_SECRET and v not in ("/", "?")}


class Redactor:
    def __init__(self, secrets: Iterable[str]):
        # Longest first, so a URL is masked whole before its path would be.
        self._secrets = sorted({v for s in secrets for v in _variants(s)}, key=len, reverse=True)

    def text(self, value: object) -> str:
        out = str(value)
        for secret in self._secrets:
            out = out.replace(secret, MASK)
        return out

    def __repr__(self) -> str:
        return f"Redactor({len(self._secrets)} patterns)"


class RedactingFilter(logging.Filter):
    """Masks secrets in the final message of every record it sees (message and arguments)."""

    def __init__(self, redactor: Redactor):
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self.redactor.text(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


# Loggers that may see a secret: our own, and the HTTP client's (httpx logs each request line,
# URL included, at INFO; httpcore traces at DEBUG). A logger's filters apply only to records
# logged on that very logger, not its children, so each is named.
WATCHED = ("faultmaven_runbooks.alerts.notify", "httpx", "httpcore.connection", "httpcore.http11",
           "httpcore.http2", "httpcore.proxy", "httpcore.socks")


def install(redactor: Redactor) -> RedactingFilter:
    """Attach a filter to every watched logger; `uninstall` removes it."""
    filt = RedactingFilter(redactor)
    for name in WATCHED:
        logging.getLogger(name).addFilter(filt)
    return filt


def uninstall(filt: RedactingFilter) -> None:
    for name in WATCHED:
        logging.getLogger(name).removeFilter(filt)
