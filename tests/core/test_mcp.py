"""The MCP tools through the real SDK client: in memory for every tool, answer shape and error
path, and a real subprocess over stdio."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import anyio
import jsonschema
import pytest
from mcp import Client, StdioServerParameters
from mcp.shared.exceptions import MCPError

from faultmaven_runbooks.adapters.mcp.search import MAX_SEARCH_CHARS, bounded
from faultmaven_runbooks.adapters.mcp.server import build_server
from faultmaven_runbooks.models import MatchSignals, SearchHit, SearchResponse

pytestmark = pytest.mark.anyio

ALL_TOOLS = {
    "search", "suggest_similar", "get_runbook", "create_runbook", "update_runbook", "execute",
    "list_executions", "learn", "get_patterns", "create_runbook_from_case",
}
MAX_TOOLS_LIST_CHARS = 16_000


@pytest.fixture
def anyio_backend():
    return "asyncio"


async def test_tools_list_is_bounded_titled_and_portable(service):
    async with Client(build_server(service), mode="legacy") as client:
        listed = await client.list_tools()
    tools = {t.name: t for t in listed.tools}
    assert set(tools) >= ALL_TOOLS
    wire = json.dumps(listed.model_dump(by_alias=True, exclude_none=True, mode="json"))
    assert len(wire) <= MAX_TOOLS_LIST_CHARS, len(wire)
    for tool in tools.values():
        assert tool.title, tool.name
        assert "\n" not in tool.description and len(tool.description) < 400, tool.name
        schema = tool.input_schema
        # Claude's API refuses combinators at the root, and some clients drop tools using $ref.
        assert not {"oneOf", "anyOf", "allOf", "$defs"} & set(schema), tool.name
        assert "$ref" not in json.dumps(schema), tool.name
    for name in ("search", "suggest_similar", "get_runbook"):
        assert tools[name].annotations.read_only_hint is True
        assert tools[name].annotations.open_world_hint is False
    assert tools["execute"].annotations.read_only_hint is False
    search = tools["search"].input_schema["properties"]
    assert search["type"]["enum"] == ["static", "dynamic", "template"] and search["limit"]["default"] == 5
    incident = tools["learn"].input_schema["properties"]["incident_data"]
    assert {"type", "success"} <= set(incident["required"]) and incident["properties"]["success"]["type"] == "boolean"
    assert tools["suggest_similar"].input_schema["properties"]["alert"]["properties"]["labels"]["type"] == "object"


@pytest.mark.parametrize("args, valid", [
    ({"problem": "disk full"}, True),
    ({"alert": {"labels": {"alertname": "X"}}, "limit": 2}, True),
    ({"case": "Redis OOM after deploy"}, True),
    ({}, False),
    ({"limit": 3}, False),
    ({"problem": "disk full", "alert": {"name": "X"}}, False),
    ({"alert": {"name": "X"}, "case": "summary"}, False),
])
async def test_suggest_similar_schema_says_exactly_one_source(service, args, valid):
    async with Client(build_server(service), mode="legacy") as client:
        schema = next(t for t in (await client.list_tools()).tools if t.name == "suggest_similar").input_schema
        validator = jsonschema.Draft202012Validator(schema)
        assert validator.is_valid(args) is valid
        result = await client.call_tool("suggest_similar", args)
        assert result.is_error is not valid  # the server enforces what the schema says


async def test_search_answers_compact_text_and_structured_content(service):
    async with Client(build_server(service)) as client:
        result = await client.call_tool("search", {"query": "KubePodCrashLooping"})
    assert not result.is_error
    body = result.structured_content
    assert set(body) >= {"results", "total", "search_time"} and len(body["results"]) <= 5
    hit = body["results"][0]
    assert hit["id"] == "pod-crashloop"
    assert set(hit) >= {"id", "title", "type", "severity", "relevance_score", "summary", "last_updated",
                        "path", "section", "snippet"}
    text = result.content[0].text
    assert "\n" not in text and ": " not in text.split('"snippet"')[0]  # no indentation, no spaced separators
    assert json.loads(text) == _without_nulls(body)  # the same answer, minus the nulls


def _without_nulls(value):
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def test_search_answers_stay_under_8000_characters():
    hit = dict(id="r", title="t", type="static", severity="high", relevance_score=0.9, summary="s" * 300,
               last_updated=None, path="p.md", section="Solution", snippet="x" * 1500,
               why=MatchSignals(exact_identifier=0.0, keyword_coverage=0.5, semantic_similarity=0.4))
    many = SearchResponse(results=[SearchHit(**{**hit, "id": f"r{i}"}) for i in range(20)], total=20,
                          search_time="0.01s")
    kept = bounded(many)
    assert len(kept.model_dump_json(exclude_none=True)) <= MAX_SEARCH_CHARS
    assert 1 <= len(kept.results) < 20 and [h.id for h in kept.results] == [f"r{i}" for i in range(len(kept.results))]
    assert f"{20 - len(kept.results)} more matching runbook(s) left out" in kept.message
    few = SearchResponse(results=many.results[:2], total=2, search_time="0.01s")
    assert bounded(few) == few


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


@pytest.mark.parametrize("typed", [
    "Pod-CrashLoop",  # any case
    "KubePodCrashLooping",  # the alert it handles
    "https://runbooks.example.org/runbooks/kubernetes/kubepodcrashlooping",  # runbook_url, lower-cased
    "https://github.com/acme/runbooks/blob/main/static/compute/pod-crashloop.md#diagnosis",  # the file's URL
])
async def test_get_runbook_takes_ids_as_people_type_them(service, typed):
    async with Client(build_server(service)) as client:
        result = await client.call_tool("get_runbook", {"runbook_id": typed})
    assert not result.is_error, result.content[0].text
    assert result.structured_content["id"] == "pod-crashloop"


async def test_a_short_id_two_files_share_is_answered_with_the_ids_that_exist(service, library_dir):
    for folder in ("static/team-a", "dynamic/team-b"):
        (library_dir / folder).mkdir(parents=True)
        (library_dir / folder / "restarts.md").write_text(
            "---\nid: node-restarts\nalerts: [NodeRebooted]\n---\n# Node restarts\n\nThe node rebooted unexpectedly.\n")
    async with Client(build_server(service)) as client:
        by_id = await client.call_tool("get_runbook", {"runbook_id": "node-restarts"})
        by_alert = await client.call_tool("get_runbook", {"runbook_id": "NodeRebooted"})
        named = [await client.call_tool("get_runbook", {"runbook_id": rid})
                 for rid in ("static-team-a-restarts", "dynamic-team-b-restarts")]
    for answer in (by_id, by_alert):
        assert answer.is_error and "not found" not in answer.content[0].text.lower()
        assert "static-team-a-restarts" in answer.content[0].text and "dynamic-team-b-restarts" in answer.content[0].text
    assert [n.structured_content["path"] for n in named] == ["static/team-a/restarts.md", "dynamic/team-b/restarts.md"]


@pytest.mark.parametrize(
    "tool, args, fragment",
    [
        ("search", {"query": ""}, "at least 1 character"),
        ("search", {"query": "x" * 100_000}, "at most 4000 characters"),
        ("search", {"query": "oom", "type": "bogus"}, "type"),
        ("search", {"query": "oom", "severity": "urgent"}, "severity"),
        ("search", {"query": "oom", "limit": 0}, "greater than or equal to 1"),
        ("search", {"query": "   "}, "query is empty"),
        ("get_runbook", {"runbook_id": "no-such-runbook"}, "no runbook with id, alert name or runbook_url"),
        ("get_runbook", {"runbook_id": "pod-crashloop", "section": "Nope"}, "its sections are"),
        ("suggest_similar", {}, "exactly one of"),
        ("suggest_similar", {"alert": {"labels": "not-a-dict"}}, "valid dictionary"),
        ("learn", {"incident_data": {"type": "x"}}, "success"),
    ],
)
async def test_bad_input_gets_a_tool_error_that_says_what_to_fix(service, tool, args, fragment):
    async with Client(build_server(service)) as client:
        result = await client.call_tool(tool, args)
        assert result.is_error
        assert fragment in result.content[0].text
        # ...and the server keeps serving.
        assert not (await client.call_tool("search", {"query": "OOMKilled"})).is_error


async def test_unknown_resources_answer_resource_not_found(service):
    async with Client(build_server(service), mode="legacy") as client:
        for uri in ("runbook://no-such-runbook", "file:///etc/passwd"):
            with pytest.raises(MCPError) as caught:
                await client.read_resource(uri)
            assert caught.value.error.code == -32002 and caught.value.error.data == {"uri": uri}
        with pytest.raises(MCPError, match="use `search` to find runbook ids"):
            await client.read_resource("runbook://no-such-runbook")


async def test_real_server_over_stdio_with_the_real_model(library_dir, tmp_path):
    """Spawn `faultmaven-runbooks serve` (stdio) as a client would, and search with the real model."""
    exe = Path(sys.executable).with_name("faultmaven-runbooks")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "FAULTMAVEN_RUNBOOKS_EMBEDDING_MODEL": "bundled:all-MiniLM-L6-v2"}
    params = StdioServerParameters(
        command=str(exe), args=["serve", "--library", str(library_dir), "--data", str(tmp_path / "data")], env=env,
    )
    async with Client(params) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert names >= ALL_TOOLS
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
        by_alert = await client.call_tool("get_runbook", {"runbook_id": "kubecontaineroomkilled"})
        assert by_alert.structured_content["id"] == "container-oom-killed"
