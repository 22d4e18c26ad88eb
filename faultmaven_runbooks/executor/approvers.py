"""Named approver credentials: the token is shown once, only its SHA-256 is kept (in the state
store, storage/approvers.py, shared by every replica).

An approval is worth what the approver's authentication is worth: a name typed into a request
body proves nothing, so approvals need one of these tokens and the approver's identity comes
from it. Tokens carry 256 random bits, so a plain SHA-256 (no slow hash) is enough to make a
stolen database useless. Removing an approver revokes the credential (the row stays, dated);
backups never contain credentials, so a restore cannot bring a revoked one back.
"""

from __future__ import annotations

import hashlib
import re
import secrets

from ..clock import Clock, utc_now
from ..errors import Conflict, InvalidInput, NotFound

TOKEN_PREFIX = "fmra_"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def for_settings(settings, clock: Clock = utc_now) -> Approvers:
    """The approver credentials of the state store these settings name (the CLI's way in)."""
    from ..storage.lazy import LazyStore

    return Approvers(LazyStore(settings, clock))


class Approvers:
    def __init__(self, store):
        self.store = store  # its `approvers` repository

    def _active(self, name: str) -> str | None:
        """The active approver whose name is `name` in any case (names are told apart by people)."""
        wanted = (name or "").casefold()
        return next((a.name for a in self.store.approvers.list() if a.name.casefold() == wanted), None)

    def add(self, name: str) -> str:
        """Create a credential; returns the token, which is never shown again."""
        if not _NAME.fullmatch(name or ""):
            raise InvalidInput("an approver name is 1-64 letters, digits, '.', '_', '@' or '-', e.g. alice")
        if self._active(name) is not None:
            raise Conflict(f"approver {name!r} exists; remove it first to issue a new token")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        self.store.approvers.add(name, digest(token))
        return token

    def remove(self, name: str) -> None:
        match = self._active(name)
        if match is None or not self.store.approvers.revoke(match):
            raise NotFound(f"no approver {name!r}; `faultmaven-runbooks approvers list` shows them")

    def names(self) -> list[dict]:
        return [{"name": a.name, "created": a.created.isoformat(timespec="seconds")}
                for a in self.store.approvers.list()]

    def count(self) -> int:
        return len(self.store.approvers.list())

    def identify(self, token: str | None) -> str | None:
        """The approver a token belongs to, or None (unknown, malformed or revoked)."""
        if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        found = self.store.approvers.by_token_hash(digest(token))
        return found.name if found else None
