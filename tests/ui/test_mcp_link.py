"""From the agent's chat to the console: a plan waiting for approval is offered to the user as a
URL-mode elicitation that opens its console page; whatever the client answers decides nothing.
Clients without URL elicitation find the same link in the result."""

from __future__ import annotations

import json

import pytest
from mcp import Client, types
from mcp.client.streamable_http import streamable_http_client
from mcp.server import MCPServer

from faultmaven_runbooks.adapters.http import build_app
from faultmaven_runbooks.adapters.mcp import execution
from faultmaven_runbooks.adapters.mcp.server import build_server
from faultmaven_runbooks.service import RunbookService
from tests.executor.fake_kube import CTX, NS, POD
from tests.http.http_support import LiveServer

pytestmark = pytest.mark.anyio
CHANGE = {"dry_run": False, "steps": [10]}
CONSOLE = "https://runbooks.example.com"


@pytest.fixture
def anyio_backend():
    return "asyncio"


def _server(settings, clock) -> MCPServer:
    server = MCPServer("console-link-test")
    execution.register(server, RunbookService(settings, clock=clock))
    return server


def _recording(action: str):
    asked: list = []

    async def callback(context, params):
        asked.append(params)
        return types.ElicitResult(action=action)

    return callback, asked


def _data(result) -> dict:
    return json.loads(result.content[0].text)


@pytest.mark.parametrize("mode", ["auto", "legacy"])  # 2026-07-28 input round; 2025-11-25 pushed request
@pytest.mark.parametrize("action", ["accept", "decline"])
async def test_the_user_is_sent_to_the_console_page_and_the_answer_approves_nothing(kube_settings, clock, kube,
                                                                                  mode, action):
    server = _server(kube_settings.replace(console_url=CONSOLE + "/"), clock)
    callback, asked = _recording(action)
    async with Client(server, elicitation_callback=callback, mode=mode) as client:
        result = await client.call_tool("execute", {"runbook_id": "exec-sampler", "context": CTX, "parameters": CHANGE})
    data = _data(result)
    page = f"{CONSOLE}/ui/executions/{data['execution_id']}"
    assert [(p.mode, p.url) for p in asked] == [("url", page)]
    assert "approver credential" in asked[0].message
    assert data["status"] == "awaiting_approval" and data["approval"]["url"] == page
    assert page in data["approval"]["how"]
    assert kube.changes() == [] and kube.get("pods", POD, NS) is not None


async def test_a_client_without_elicitation_gets_the_link_in_the_result(kube_settings, clock, kube):
    async with Client(_server(kube_settings.replace(console_url=CONSOLE), clock)) as client:
        data = _data(await client.call_tool("execute", {"runbook_id": "exec-sampler", "context": CTX,
                                                        "parameters": CHANGE}))
        shown = _data(await client.call_tool("get_execution", {"execution_id": data["execution_id"]}))
    assert data["approval"]["url"] == shown["approval"]["url"] == f"{CONSOLE}/ui/executions/{data['execution_id']}"


async def test_without_a_console_url_over_stdio_no_link_is_invented(kube_settings, clock, kube):
    callback, asked = _recording("accept")
    async with Client(_server(kube_settings, clock), elicitation_callback=callback) as client:
        data = _data(await client.call_tool("execute", {"runbook_id": "exec-sampler", "context": CTX,
                                                        "parameters": CHANGE}))
    assert asked == [] and "url" not in data["approval"] and data["status"] == "awaiting_approval"


async def test_over_http_the_link_is_the_servers_own_address(kube_settings, clock, kube):
    service = RunbookService(kube_settings, clock=clock)
    live = LiveServer(build_app(service, build_server(service), kube_settings)).start()
    try:
        callback, asked = _recording("accept")
        async with Client(streamable_http_client(f"{live.url}/mcp"), elicitation_callback=callback) as client:
            data = _data(await client.call_tool("execute", {"runbook_id": "exec-sampler", "context": CTX,
                                                            "parameters": CHANGE}))
    finally:
        live.stop()
    assert [p.url for p in asked] == [f"{live.url}/ui/executions/{data['execution_id']}"]
    assert data["approval"]["url"] == asked[0].url and kube.changes() == []
