"""Request gatekeeping for every route, REST and MCP alike: Host/Origin, bearer token, body size.

Approving is not the API token's business: the approve/reject routes (and reading one execution,
which an approver reviews) let a request through to the route, which demands an approver
credential (see approvers.py); the guard only records whether the API token came along.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import re

from mcp.server.transport_security import TransportSecuritySettings
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ...settings import HttpSettings
from .responses import BadRequest, error_response

# Health stays open so load balancers and `curl /runbooks/health` work without a secret.
PUBLIC_PATHS = frozenset({"/runbooks/health", "/healthz"})
# Routes an approver credential may call; the route checks the credential itself.
APPROVER_PATH = re.compile(r"^/runbooks/executions/[^/]+(/approve|/reject)?$")
API_TOKEN_SEEN = "faultmaven.api_token"  # scope["state"] key: the request carried the API token

_LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "[::1]"]


def is_loopback(host: str) -> bool:
    """True for names and addresses that only this machine can reach."""
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Allowlist:
    """Host and Origin values this server answers to."""

    def __init__(self, bind_host: str, http: HttpSettings):
        hosts = list(_LOOPBACK_HOSTS)
        if not is_loopback(bind_host) and bind_host not in ("0.0.0.0", "::"):
            hosts.append(f"[{bind_host}]" if ":" in bind_host else bind_host)
        self.hosts = [f"{h}:*" for h in hosts] + list(_LOOPBACK_HOSTS)
        self.hosts += list(http.allowed_hosts)
        self.origins = [f"http://{h}:*" for h in hosts] + [f"https://{h}:*" for h in hosts]
        self.origins += [f"http://{h}" for h in _LOOPBACK_HOSTS] + list(http.allowed_origins)

    @staticmethod
    def _match(value: str, patterns: list[str]) -> bool:
        value = value.lower()
        for pattern in patterns:
            pattern = pattern.lower()
            if value == pattern or (pattern.endswith(":*") and value.startswith(pattern[:-1])):
                return True
        return False

    def host_ok(self, host: str | None) -> bool:
        return host is not None and bool(host) and self._match(host, self.hosts)

    def origin_ok(self, origin: str | None) -> bool:
        # Browsers always send Origin on cross-site requests; CLI clients and servers send none.
        return not origin or self._match(origin, self.origins)

    def transport_security(self) -> TransportSecuritySettings:
        """The same lists for the MCP SDK's own check on /mcp and /sse."""
        return TransportSecuritySettings(
            enable_dns_rebinding_protection=True, allowed_hosts=self.hosts, allowed_origins=self.origins
        )


def _token_matches(given: str, expected: str | None) -> bool:
    # Constant-time compare stops timing attacks that guess the token byte by byte.
    return expected is not None and hmac.compare_digest(given.encode(), expected.encode())


class GuardMiddleware:
    """Outermost gate: rejects a request before any route or MCP session sees it."""

    def __init__(self, app: ASGIApp, *, allow: Allowlist, auth_token: str | None, max_body: int,
                 session_paths: tuple[str, ...] = ()):
        self.app = app
        self.allow = allow
        self.auth_token = auth_token or None
        self.max_body = max_body
        self.session_paths = session_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            # No route serves WebSockets; an upgrade must not reach the MCP apps (e.g. /messages/)
            # unchecked: without the token it gets the 401 every request gets, with it a 403.
            headers = Headers(scope=scope)
            problem = self._auth_problem(scope.get("path", ""), headers.get("authorization", ""), {})
            return await _refuse_websocket(scope, send, 401 if problem else 403,
                                           problem or "WebSocket connections are not served here")
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        path = scope.get("path", "")

        # DNS rebinding: a hostile page resolves its own name to 127.0.0.1; its requests then carry
        # that foreign Host (and Origin), which we refuse.
        if not self.allow.host_ok(headers.get("host")):
            return await error_response(421, "Host header not allowed; add it to FAULTMAVEN_RUNBOOKS_ALLOWED_HOSTS")(
                scope, receive, send
            )
        if not self.allow.origin_ok(headers.get("origin")):
            return await error_response(
                403, "Origin not allowed (cross-site request); add it to FAULTMAVEN_RUNBOOKS_ALLOWED_ORIGINS"
            )(scope, receive, send)

        problem = self._auth_problem(path, headers.get("authorization", ""), scope)
        if problem:
            return await error_response(401, problem, headers={"WWW-Authenticate": 'Bearer realm="faultmaven"'})(
                scope, receive, send
            )

        # Memory exhaustion: refuse oversized bodies up front by Content-Length, and count the
        # bytes of chunked bodies as they stream in.
        declared = headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():
                return await error_response(400, "Content-Length must be a number")(scope, receive, send)
            if int(declared) > self.max_body:
                return await self._too_large(scope, receive, send)
        await self.app(scope, self._counting(receive), send)

    def _auth_problem(self, path: str, header: str, scope: Scope) -> str | None:
        if path in PUBLIC_PATHS:
            return None
        if any(path == prefix or path.startswith(prefix + "/") for prefix in self.session_paths):
            # The console (adapters/ui): people sign in there with an approver credential and carry
            # a signed session cookie; its pages check the session and a CSRF token themselves.
            # Host, Origin and body size are still checked above and below, as for the API.
            return None
        scheme, _, given = header.partition(" ")
        given = given.strip() if scheme.lower() == "bearer" else ""
        api_ok = self.auth_token is None or _token_matches(given, self.auth_token)
        if APPROVER_PATH.match(path):
            scope.setdefault("state", {})[API_TOKEN_SEEN] = api_ok and bool(self.auth_token)
            return None  # the route demands an approver credential (or the API token, to read)
        if api_ok:
            return None
        if header:
            return "wrong bearer token; send 'Authorization: Bearer <token>' with the configured token"
        return "authentication required; send 'Authorization: Bearer <token>'"

    def _counting(self, receive: Receive) -> Receive:
        seen = 0
        limit = self.max_body

        async def wrapped() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BadRequest(f"request body larger than {limit} bytes", status=413)
            return message

        return wrapped

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        await error_response(413, f"request body larger than {self.max_body} bytes")(scope, receive, send)


async def _refuse_websocket(scope: Scope, send: Send, status: int, text: str) -> None:
    kind = "unauthorized" if status == 401 else "forbidden"
    message = json.dumps({"error": kind, "message": text, "status": status}).encode()
    if "websocket.http.response" in (scope.get("extensions") or {}):
        await send({"type": "websocket.http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(message)).encode())]})
        await send({"type": "websocket.http.response.body", "body": message})
    else:
        await send({"type": "websocket.close", "code": 1008})
