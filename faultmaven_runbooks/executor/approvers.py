"""Named approver credentials: the token is shown once, only its SHA-256 is kept.

An approval is worth what the approver's authentication is worth: a name typed into a request
body proves nothing, so approvals need one of these tokens and the approver's identity comes
from it. Tokens carry 256 random bits, so a plain SHA-256 (no slow hash) is enough to make a
stolen file useless. A database store implements the same four methods on one table.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import re
import secrets
from pathlib import Path

from ..clock import Clock, utc_now
from ..errors import Conflict, InvalidInput, NotFound
from ..library.store import atomic_write

TOKEN_PREFIX = "fmra_"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


def for_data_dir(data_dir: Path, clock: Clock = utc_now) -> "ApproverStore":
    """The approver credentials of one data dir (the server's and the CLI's when they share it)."""
    return ApproverStore(Path(data_dir) / "approvers.json", clock)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class ApproverStore:
    def __init__(self, path: Path, clock: Clock = utc_now):
        self.path = Path(path)
        self.clock = clock

    @contextlib.contextmanager
    def _locked(self):
        # flock is released by the kernel when a process dies, so it can never go stale.
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path.with_name(f".{self.path.name}.flock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _load(self) -> dict[str, dict]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            raise InvalidInput(f"{self.path} is unreadable; remove it and add the approvers again") from None
        return data.get("approvers", {}) if isinstance(data, dict) else {}

    def _save(self, approvers: dict[str, dict]) -> None:
        atomic_write(self.path, json.dumps({"approvers": approvers}, indent=1, sort_keys=True).encode("utf-8"))
        os.chmod(self.path, 0o600)

    def add(self, name: str) -> str:
        """Create a credential; returns the token, which is never shown again."""
        if not _NAME.fullmatch(name or ""):
            raise InvalidInput("an approver name is 1-64 letters, digits, '.', '_', '@' or '-', e.g. alice")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self._locked():
            approvers = self._load()
            if any(existing.casefold() == name.casefold() for existing in approvers):
                raise Conflict(f"approver {name!r} exists; remove it first to issue a new token")
            approvers[name] = {"sha256": _digest(token), "created": self.clock().isoformat(timespec="seconds")}
            self._save(approvers)
        return token

    def remove(self, name: str) -> None:
        with self._locked():
            approvers = self._load()
            match = next((n for n in approvers if n.casefold() == (name or "").casefold()), None)
            if match is None:
                raise NotFound(f"no approver {name!r}; `faultmaven-runbooks approvers list` shows them")
            del approvers[match]
            self._save(approvers)

    def names(self) -> list[dict]:
        return [{"name": n, "created": v.get("created")} for n, v in sorted(self._load().items())]

    def count(self) -> int:
        return len(self._load())

    def identify(self, token: str | None) -> str | None:
        """The approver a token belongs to, or None."""
        if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        digest = _digest(token)
        for name, entry in self._load().items():
            if hmac.compare_digest(str(entry.get("sha256", "")), digest):
                return name
        return None
