"""Transports that answer malformed JSON-RPC the way the spec says, instead of silently.

MCP (2025-06-18 on) has no JSON-RPC batches. The SDK drops a batch, or any unreadable line, on
stdio without a word, so the client waits forever; over HTTP it answers -32602 with a pydantic
dump. Here a batch gets -32600 (Invalid Request) on both, and an unreadable stdio line -32700
(Parse error), each with id null as JSON-RPC requires when the id cannot be known.
"""

from __future__ import annotations

import json
from typing import Any

import anyio
from mcp.server import MCPServer
from mcp.server.stdio import stdio_server
from mcp.shared.message import SessionMessage
from mcp.types import INVALID_REQUEST, PARSE_ERROR, ErrorData, JSONRPCError
from pydantic import ValidationError

BATCH_REFUSED = "JSON-RPC batches are not supported by MCP: send one request per message"


def _refusal(exc: Exception) -> JSONRPCError | None:
    """The error answer for a line the SDK could not read, or None to leave it to the SDK."""
    if not isinstance(exc, ValidationError):
        return None
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return JSONRPCError(jsonrpc="2.0", id=None, error=ErrorData(code=PARSE_ERROR, message="Parse error"))
    if any(isinstance(e.get("input"), list) for e in errors):
        return JSONRPCError(jsonrpc="2.0", id=None, error=ErrorData(code=INVALID_REQUEST, message=BATCH_REFUSED))
    return JSONRPCError(jsonrpc="2.0", id=None,
                        error=ErrorData(code=INVALID_REQUEST, message="Invalid Request: not a JSON-RPC message"))


class _Answering:
    """The stdio read stream, minus the lines that cannot be read: those are answered here."""

    def __init__(self, inner, write_stream):
        self._inner = inner
        self._write = write_stream

    @property
    def last_context(self) -> Any:
        return getattr(self._inner, "last_context", None)

    async def receive(self):
        while True:
            item = await self._inner.receive()
            refusal = _refusal(item) if isinstance(item, Exception) else None
            if refusal is None:
                return item
            await self._write.send(SessionMessage(refusal))

    def __aiter__(self):
        return self

    async def __anext__(self):
        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()


async def serve_stdio(server: MCPServer) -> None:
    """MCPServer.run_stdio_async, with unreadable lines answered."""
    low = server._lowlevel_server  # run_stdio_async offers no hook on the read stream
    async with stdio_server() as (read_stream, write_stream):
        await low.run(_Answering(read_stream, write_stream), write_stream, low.create_initialization_options())


class RefuseBatches:
    """ASGI middleware for the MCP HTTP endpoints: a POST whose body is a JSON array gets -32600.

    Only the first bytes are looked at, never the whole body: the transport behind still
    enforces its own size limit on everything else.
    """

    def __init__(self, app, paths: tuple[str, ...]):
        self.app = app
        self.paths = tuple(p.rstrip("/") for p in paths)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"].rstrip("/") not in self.paths:
            await self.app(scope, receive, send)
            return
        seen: list[dict] = []
        first = b""
        while not first:
            message = await receive()
            seen.append(message)
            first = message.get("body", b"").lstrip()[:1]
            if message["type"] != "http.request" or not message.get("more_body"):
                break
        if first == b"[":
            body = json.dumps({"jsonrpc": "2.0", "id": None,
                               "error": {"code": INVALID_REQUEST, "message": BATCH_REFUSED}}).encode()
            await send({"type": "http.response.start", "status": 400,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return

        async def replay():
            return seen.pop(0) if seen else await receive()

        await self.app(scope, replay, send)
