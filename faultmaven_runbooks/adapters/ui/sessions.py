"""Console sessions: a signed cookie naming the signed-in approver, and the CSRF token tied to it.

The cookie holds {sid, who, exp}, signed with the server secret (itsdangerous), so a browser can
neither forge an identity nor extend its session; expiry is compared with the service's clock.
Nothing is stored server-side: signing out clears the cookie, and every request checks that the
approver still holds a credential, so `approvers remove NAME` ends that person's sessions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from itsdangerous import BadSignature, URLSafeSerializer

from ...clock import Clock
from ...settings import Settings

log = logging.getLogger(__name__)

COOKIE = "fm_console"
# Browsers only accept a "__Secure-" cookie with the Secure flag, so an http page (or a network
# attacker injecting a cookie over http) can never plant one an https console would read.
SECURE_COOKIE = "__Secure-fm_console"
KEY_FILE = "console.key"
PATH = "/ui"


def load_secret(settings: Settings) -> bytes:
    """The session signing key: the setting, else a random key generated once into the data dir
    (0600), so sessions survive restarts and replicas sharing a data dir share the key."""
    if settings.ui.session_secret:
        return settings.ui.session_secret.encode()
    path = Path(settings.data_dir) / KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: of two processes starting together, one writes the key and both read it.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
            fh.flush()
            os.fsync(fh.fileno())
        log.info("console session key generated in %s", path)
    for _ in range(50):  # the other process may be between creating the file and writing it
        key = path.read_text("ascii").strip()
        if len(key) >= 32:
            return key.encode()
        time.sleep(0.02)
    raise RuntimeError(f"{path} holds no usable key; remove it (a new one is generated) or set "
                       "FAULTMAVEN_RUNBOOKS_SESSION_SECRET")


@dataclass(frozen=True)
class Session:
    sid: str
    who: str | None  # the approver's name once signed in
    expires: dt.datetime

    @property
    def signed_in(self) -> bool:
        return self.who is not None


class SessionCodec:
    def __init__(self, secret: bytes, ttl_seconds: int, clock: Clock):
        self._serializer = URLSafeSerializer(secret, salt="faultmaven-console-session")
        self._csrf_key = hashlib.sha256(b"console-csrf\0" + secret).digest()
        self.ttl = dt.timedelta(seconds=ttl_seconds)
        self.clock = clock

    def new(self, who: str | None = None) -> Session:
        """A fresh session id on every sign-in: an id planted before sign-in (session fixation)
        never becomes a signed-in session."""
        return Session(secrets.token_urlsafe(18), who, self.clock() + self.ttl)

    def dump(self, session: Session) -> str:
        return self._serializer.dumps({"sid": session.sid, "who": session.who,
                                       "exp": session.expires.isoformat(timespec="seconds")})

    def load(self, value: str | None) -> Session | None:
        """The session a cookie carries, or None when it is missing, forged or expired."""
        if not value or len(value) > 1024:
            return None
        try:
            data = self._serializer.loads(value)
            session = Session(str(data["sid"]), data["who"], dt.datetime.fromisoformat(data["exp"]))
        except (BadSignature, KeyError, TypeError, ValueError):
            return None
        if session.who is not None and not isinstance(session.who, str):
            return None
        return session if self.clock() < session.expires else None

    def csrf_token(self, session: Session) -> str:
        return hmac.new(self._csrf_key, session.sid.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, session: Session | None, given: str | None) -> bool:
        # Cross-site request forgery: a hostile page can make the browser post with our cookie
        # (SameSite does not separate two ports of one host), but cannot read this token.
        return session is not None and bool(given) and hmac.compare_digest(self.csrf_token(session), given or "")
