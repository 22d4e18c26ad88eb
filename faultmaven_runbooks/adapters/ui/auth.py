"""Sign in with an approver credential, sign out.

The credential is the one `faultmaven-runbooks approvers add NAME` printed; the API token (what
agents hold) never signs in, so an agent cannot open the console as a person.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlencode

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from .console import console_of, redirect
from .links import PREFIX

router = APIRouter()
HOME = f"{PREFIX}/executions"


def login_url(target: str | None = None, message: str | None = None) -> str:
    query = {k: v for k, v in (("next", target), ("message", message)) if v}
    return f"{PREFIX}/login" + (f"?{urlencode(query)}" if query else "")


def _local(target: str | None) -> str:
    """Where to go after sign-in: a console path only (an open redirect would send a freshly
    signed-in person to a look-alike site)."""
    if target and target.startswith(f"{PREFIX}/") and not target.startswith("//") and "\\" not in target \
            and "://" not in target:
        return target
    return HOME


@router.get("/")
async def home() -> Response:
    return redirect(HOME)


@router.get("/login")
async def login_page(request: Request, next: str | None = None, message: str | None = None) -> Response:
    console = console_of(request)
    session = console.session(request)
    approvers = await console.call(console.service.approver_names)
    if session is not None and session.signed_in:
        if session.who in approvers:
            return redirect(_local(next))
        session = None  # a removed approver's session: start over, anonymous
    session = session or console.codec.new()
    configured = bool(approvers)
    response = console.page(request, "login.html", session=session, target=_local(next), message=(message or "")[:200],
                            configured=configured)
    console.set_session(response, request, session)
    return response


@router.post("/login")
async def login(request: Request) -> Response:
    console = console_of(request)
    session, form = await console.posted(request, signed_in=False)
    target = _local(form.get("next"))
    token = (form.get("token") or "").strip()
    api_token = console.settings.http.auth_token
    problem = None
    if api_token and hmac.compare_digest(token.encode(), api_token.encode()):
        # The API token is what agents hold: with it an agent could approve its own plans here.
        problem = "The API token cannot sign in: use your own approver credential."
    name = None if problem else await console.call(console.service.identify_approver, token)
    if name is None:
        problem = problem or "That is not an approver credential of this server."
        configured = bool(await console.call(console.service.approver_names))
        return console.page(request, "login.html", status=401, session=session, target=target, error=problem,
                            configured=configured)
    response = redirect(target)
    console.set_session(response, request, console.codec.new(who=name))
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    console = console_of(request)
    await console.posted(request)
    response = redirect(login_url(message="Signed out."))
    console.set_session(response, request, None)
    return response
