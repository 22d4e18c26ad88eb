"""MCP over HTTP with the SDK's own clients: streamable HTTP at /mcp and SSE at /sse, same app."""

from __future__ import annotations

import json

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from tests.http.http_support import TOKEN

pytestmark = pytest.mark.anyio

AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def anyio_backend():
    return "asyncio"


def _flatten(exc: BaseException) -> str:
    """Text of an exception and everything grouped or chained inside it."""
    parts = [repr(exc)]
    for sub in getattr(exc, "exceptions", ()):
        parts.append(_flatten(sub))
    if exc.__cause__ is not None:
        parts.append(_flatten(exc.__cause__))
    return " ".join(parts)


def _text(result) -> str:
    return " ".join(getattr(c, "text", "") for c in result.content)


async def _search_over(client: Client) -> None:
    tools = await client.list_tools()
    names = {t.name for t in tools.tools}
    assert "search" in names
    result = await client.call_tool("search", {"query": "pod CrashLoopBackOff restarting", "limit": 3})
    assert not result.is_error, _text(result)
    data = result.structured_content or json.loads(_text(result))
    hits = data.get("results")
    assert hits and hits[0]["id"] == "pod-crashloop", (data, _text(result))


async def test_streamable_http_with_token(live):
    async with create_mcp_http_client(headers=AUTH) as http:
        async with Client(streamable_http_client(f"{live.url}/mcp", http_client=http)) as client:
            await _search_over(client)


async def test_stateless_streamable_http_for_replicas(start_server):

    live = start_server(mcp_stateless=True)
    async with create_mcp_http_client(headers=AUTH) as http:
        async with Client(streamable_http_client(f"{live.url}/mcp", http_client=http)) as client:
            await _search_over(client)


async def test_sse_with_token(live):
    async with Client(sse_client(f"{live.url}/sse", headers=AUTH)) as client:
        await _search_over(client)


async def test_streamable_http_without_token_is_refused(live):
    with pytest.raises(Exception) as info:
        async with Client(f"{live.url}/mcp") as client:
            await client.list_tools()
    assert "Server returned an error response" in _flatten(info.value)  # the SDK hides the status
    # The same refusal, seen on the wire.
    r = httpx.post(f"{live.url}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
                   headers={"accept": "application/json, text/event-stream"})
    assert r.status_code == 401 and r.json()["error"] == "unauthorized"


def test_sse_and_mcp_refuse_foreign_host_and_origin(live):
    for path, method in (("/mcp", "POST"), ("/sse", "GET"), ("/messages/", "POST")):
        r = httpx.request(method, f"{live.url}{path}", headers={**AUTH, "Host": "attacker.example"}, json={})
        assert r.status_code == 421, (path, r.status_code)
        r = httpx.request(method, f"{live.url}{path}", headers={**AUTH, "Origin": "http://attacker.example"}, json={})
        assert r.status_code == 403, (path, r.status_code)


async def test_mcp_calls_show_up_in_metrics(live):
    async with create_mcp_http_client(headers=AUTH) as http:
        async with Client(streamable_http_client(f"{live.url}/mcp", http_client=http)) as client:
            await client.list_tools()
    text = httpx.get(f"{live.url}/metrics", headers=AUTH).text
    assert 'faultmaven_http_requests_total{method="POST",route="/mcp",status="200"}' in text


def test_httpx2_is_what_the_sdk_uses():
    # Guard for the helper above: the SDK's client factory must hand back an httpx2 client.
    assert isinstance(create_mcp_http_client(headers=AUTH), httpx2.AsyncClient)
