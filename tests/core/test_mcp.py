"""The MCP server through the real SDK client: in memory for every tool and error path, and a
real subprocess over stdio."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters

from faultmaven_runbooks.mcp_server import build_server

pytestmark = pytest.mark.anyio

ALL_TOOLS = {
    "search", "suggest_similar", "get_runbook", "create_runbook", "update_runbook", "execute",
    "list_executions", "learn", "get_patterns", "create_runbook_from_case",
}


@pytest.fixture
def anyio_backend():
    return "asyncio"


async def test_every_contract_tool_is_listed_with_schemas_and_annotations(service):
    async with Client(build_server(service)) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert ALL_TOOLS <= set(tools)
    for name in ("search", "suggest_similar", "get_runbook"):
        assert tools[name].annotations.read_only_hint is True
        assert tools[name].annotations.open_world_hint is False
        assert tools[name].output_schema is not None
    assert tools["execute"].annotations.read_only_hint is False
    search_props = tools["search"].input_schema["properties"]
    assert search_props["type"]["anyOf"][0]["enum"] == ["static", "dynamic", "template"]


async def test_search_returns_structured_hits(service):
    async with Client(build_server(service)) as client:
        result = await client.call_tool("search", {"query": "KubePodCrashLooping", "limit": 2})
    assert not result.is_error
    body = result.structured_content
    assert set(body) >= {"results", "total", "search_time"}
    hit = body["results"][0]
    assert hit["id"] == "pod-crashloop"
    assert set(hit) >= {"id", "title", "type", "severity", "relevance_score", "summary", "last_updated",
                        "path", "section", "snippet"}
    assert body["search_time"].endswith("s")


async def test_suggest_similar_and_get_runbook_and_resources(service):
    async with Client(build_server(service)) as client:
        suggested = await client.call_tool("suggest_similar", {
            "alert": {"labels": {"alertname": "KubePodCrashLooping"}, "annotations": {"summary": "Pod is crash looping."}}})
        top = suggested.structured_content["suggestions"][0]
        assert top["suggested_action"] == {"label": "View similar runbook", "type": "question_template",
                                           "payload": "Show me runbook: Pod stuck in CrashLoopBackOff"}
        page = await client.call_tool("get_runbook", {"runbook_id": "pod-crashloop", "section": "Solution"})
        assert "Immediate Fix" in page.structured_content["content"]
        templates = await client.list_resource_templates()
        assert any(t.uri_template == "runbook://{runbook_id}" for t in templates.resource_templates)
        resource = await client.read_resource("runbook://container-oom-killed")
        assert "OOMKilled" in resource.contents[0].text


@pytest.mark.parametrize(
    "tool, args, fragment",
    [
        ("search", {"query": ""}, "at least 1 character"),
        ("search", {"query": "x" * 100_000}, "at most 4000 characters"),
        ("search", {"query": "oom", "type": "bogus"}, "type"),
        ("search", {"query": "oom", "severity": "urgent"}, "severity"),
        ("search", {"query": "oom", "limit": 0}, "greater than or equal to 1"),
        ("search", {"query": "   "}, "query is empty"),
        ("get_runbook", {"runbook_id": "no-such-runbook"}, "no runbook with id 'no-such-runbook'"),
        ("get_runbook", {"runbook_id": "pod-crashloop", "section": "Nope"}, "its sections are"),
        ("suggest_similar", {}, "exactly one of"),
        ("suggest_similar", {"alert": {"labels": "not-a-dict"}}, "no text to search with"),
    ],
)
async def test_bad_input_gets_a_tool_error_that_says_what_to_fix(service, tool, args, fragment):
    async with Client(build_server(service)) as client:
        result = await client.call_tool(tool, args)
        assert result.is_error
        assert fragment in result.content[0].text
        # ...and the server keeps serving.
        assert not (await client.call_tool("search", {"query": "OOMKilled"})).is_error


async def test_real_server_over_stdio_with_the_real_model(library_dir, tmp_path):
    """Spawn `faultmaven-runbooks serve` (stdio) as a client would, and search with the real model."""
    exe = Path(sys.executable).with_name("faultmaven-runbooks")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "FAULTMAVEN_RUNBOOKS_EMBEDDING_MODEL": "bundled:all-MiniLM-L6-v2"}
    params = StdioServerParameters(
        command=str(exe), args=["serve", "--library", str(library_dir), "--data", str(tmp_path / "data")], env=env,
    )
    async with Client(params) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert ALL_TOOLS <= names
        # A fresh data dir: the first answers come at once, from what is indexed so far.
        deadline = time.monotonic() + 300
        while True:
            started = time.monotonic()
            result = await client.call_tool("search", {"query": "container killed for exceeding its memory limit"})
            assert not result.is_error and time.monotonic() - started < 3
            if not result.structured_content["index"]["indexing"] or time.monotonic() > deadline:
                break
            assert "Indexing" in result.structured_content["message"]
            await anyio.sleep(0.5)
        assert result.structured_content["results"][0]["id"] == "container-oom-killed"


async def test_unknown_resource_says_what_to_do(service):
    from mcp.shared.exceptions import MCPError

    async with Client(build_server(service)) as client:
        with pytest.raises(MCPError, match="use `search` to find runbook ids"):
            await client.read_resource("runbook://no-such-runbook")
