"""What every console page needs: the service, sessions, templates, and the checks that come
before any page runs (signed in, CSRF token, same origin). Routes live in the page modules."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ...errors import RunbookError
from ...settings import Settings
from ..metrics import Metrics
from .sessions import COOKIE, PATH, SECURE_COOKIE, Session, SessionCodec

log = logging.getLogger(__name__)
T = TypeVar("T")

NAV = (("executions", "Executions"), ("drafts", "Drafts"), ("library", "Library"), ("dashboards", "Dashboards"))


class SignInRequired(Exception):
    """Raised by a page that needs a signed-in approver; answered with the sign-in page."""

    def __init__(self, message: str | None = None):
        super().__init__(message or "")
        self.message = message


class Refused(Exception):
    """A request the console turns down before the service sees it (CSRF, cross-origin)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Console:
    service: Any  # RunbookService, or its ReadOnlyService view
    settings: Settings
    codec: SessionCodec
    metrics: Metrics
    templates: Environment

    # -- sessions ---------------------------------------------------------------------------
    def secure(self, request: Request) -> bool:
        """Secure cookies whenever the console is reached over https (directly, or as the
        configured public URL behind a TLS-terminating proxy)."""
        return request.url.scheme == "https" or (self.settings.ui.console_url or "").startswith("https://")

    def session(self, request: Request) -> Session | None:
        cached = request.scope.get("faultmaven.console_session", False)
        if cached is not False:
            return cached
        name = SECURE_COOKIE if self.secure(request) else COOKIE
        session = self.codec.load(request.cookies.get(name))
        request.scope["faultmaven.console_session"] = session
        return session

    async def person(self, request: Request) -> Session:
        """The signed-in approver's session, or SignInRequired. A removed approver's session ends
        at their next request, whatever the cookie says."""
        session = self.session(request)
        if session is None or not session.signed_in:
            raise SignInRequired()
        if session.who not in await self.call(self.service.approver_names):
            raise SignInRequired(f"{session.who} no longer holds an approver credential; sign in again")
        return session

    def set_session(self, response: Response, request: Request, session: Session | None) -> None:
        secure = self.secure(request)
        name = SECURE_COOKIE if secure else COOKIE
        if session is None:
            response.delete_cookie(name, path=PATH, secure=secure, httponly=True, samesite="strict")
            return
        # HttpOnly: a script (even one that slipped past the sanitiser) cannot read it. Strict:
        # the browser does not send it on requests started by other sites.
        response.set_cookie(name, self.codec.dump(session), max_age=int(self.codec.ttl.total_seconds()), path=PATH,
                            secure=secure, httponly=True, samesite="strict")

    # -- checks on every form post -----------------------------------------------------------
    async def posted(self, request: Request, *, signed_in: bool = True) -> tuple[Session, dict[str, str]]:
        """The form of a POST that passed the same-origin and CSRF checks, and its session."""
        origin = request.headers.get("origin")
        if origin and origin not in (_origin_of(request), _origin_of_url(self.settings.ui.console_url)):
            # Another origin (even another port of this host, which the API's allowlist accepts)
            # may not submit console forms.
            raise Refused(403, f"this form must be sent from the console itself, not from {origin}")
        if request.headers.get("sec-fetch-site") not in (None, "same-origin", "none"):
            raise Refused(403, "cross-site form submissions are refused")
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        session = await self.person(request) if signed_in else self.session(request)
        if not self.codec.csrf_ok(session, form.get("csrf_token")):
            raise Refused(403, "the form's security token is missing or stale; reload the page and try again")
        assert session is not None  # csrf_ok is False without one
        return session, form

    # -- pages -------------------------------------------------------------------------------
    def page(self, request: Request, template: str, status: int = 200, session: Session | None = None,
             **context: Any) -> HTMLResponse:
        session = session or self.session(request)
        html = self.templates.get_template(template).render(
            request=request, nav=NAV, who=session.who if session else None,
            csrf=self.codec.csrf_token(session) if session else "", read_only=self.read_only, **context)
        return HTMLResponse(html, status_code=status)

    @property
    def read_only(self) -> bool:
        return bool(getattr(self.service, "read_only", False))

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """A blocking service call (files, the database, the cluster) off the event loop."""
        return await run_in_threadpool(fn, *args, **kwargs)

    async def attempt(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T | RunbookError:
        """A service call whose domain error the page shows instead of failing."""
        try:
            return await self.call(fn, *args, **kwargs)
        except RunbookError as exc:
            return exc


def console_of(request: Request) -> Console:
    """The console a request reached (hung on the console app's state by build_console)."""
    return request.app.state.console


def _origin_of(request: Request) -> str:
    return f"{request.url.scheme}://{request.headers.get('host', '')}"


def _origin_of_url(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def templates() -> Environment:
    env = Environment(loader=PackageLoader("faultmaven_runbooks.adapters.ui", "templates"),
                      autoescape=select_autoescape(default=True), trim_blocks=True, lstrip_blocks=True)
    env.filters["bytes"] = _human_bytes
    return env


def _human_bytes(value: int | float | None) -> str:
    if value is None:
        return "-"
    size = float(value)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"
