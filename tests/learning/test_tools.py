"""The learning and authoring MCP tools and prompts through the real MCP SDK client (in memory)."""

from __future__ import annotations

import pytest
from mcp import Client

from faultmaven_runbooks.adapters.mcp.server import build_server
from tests.learning.support import load_case

pytestmark = [pytest.mark.anyio, pytest.mark.both_stores]  # both: SQLite, then PostgreSQL
NAMES = {"learn", "get_patterns", "create_runbook_from_case", "create_runbook", "update_runbook",
         "runbook_history", "runbook_diff", "runbook_analytics"}


@pytest.fixture
def anyio_backend():
    return "asyncio"


async def call(c, name, args=None):
    result = await c.call_tool(name, args or {})
    return result


async def test_tools_are_listed_with_honest_annotations(fm_service):
    async with Client(build_server(fm_service)) as c:
        tools = {t.name: t for t in (await c.list_tools()).tools}
    assert set(tools) >= NAMES
    for name in ("get_patterns", "runbook_history", "runbook_diff", "runbook_analytics"):
        assert tools[name].annotations.read_only_hint is True
    for name in ("learn", "create_runbook", "update_runbook", "create_runbook_from_case"):
        assert tools[name].annotations.read_only_hint is False
        assert tools[name].annotations.destructive_hint is False
    assert tools["learn"].annotations.idempotent_hint is True  # a re-sent incident id counts once


async def test_learn_and_patterns_over_mcp(fm_service):
    async with Client(build_server(fm_service)) as c:
        r = await call(c, "learn", {"incident_data": {"type": "pod_crash", "diagnosis": ["memory_limit_exceeded"],
                                                      "resolution": ["increase_memory_limit"], "success": True,
                                                      "duration": "5m"},
                                    "context": {"namespace": "production", "pod_type": "web-app"}})
        assert not r.is_error
        assert r.structured_content["pattern_id"] == "memory-limit-exceeded-web-app"
        p = await call(c, "get_patterns")
        assert p.structured_content["incident_patterns"]["memory-limit-exceeded-web-app"]["frequency"] == 1
        assert p.structured_content["next_cursor"] is None and p.structured_content["total_patterns"] == 1
        bad = await call(c, "learn", {"incident_data": {"type": "x"}})
        assert bad.is_error and "success" in bad.content[0].text


async def test_authoring_round_trip_over_mcp(fm_service):
    body = "# Kafka consumer lag\n\n## Steps\n1. Check the lag of the consumer group.\n"
    async with Client(build_server(fm_service)) as c:
        r = await call(c, "create_runbook", {"title": "Kafka consumer lag", "content": body, "tags": ["kafka"],
                                             "severity": "high"})
        assert not r.is_error and r.structured_content["id"] == "kafka-consumer-lag"
        dup = await call(c, "create_runbook", {"title": "Kafka consumer lag", "content": body})
        assert dup.is_error and "already exists" in dup.content[0].text
        u = await call(c, "update_runbook", {"runbook_id": "kafka-consumer-lag", "content": body + "2. Scale up.\n",
                                             "expected_version": 1, "note": "scale"})
        assert u.structured_content["version"] == 2
        stale = await call(c, "update_runbook", {"runbook_id": "kafka-consumer-lag", "severity": "low",
                                                 "expected_version": 1})
        assert stale.is_error and "version 2" in stale.content[0].text
        h = await call(c, "runbook_history", {"runbook_id": "kafka-consumer-lag"})
        assert h.structured_content["current_version"] == 2
        d = await call(c, "runbook_diff", {"runbook_id": "kafka-consumer-lag", "from_version": 1})
        assert "+2. Scale up." in d.structured_content["diff"]
        trav = await call(c, "runbook_history", {"runbook_id": "../etc"})
        assert trav.is_error
        a = await call(c, "runbook_analytics", {"runbook_id": "kafka-consumer-lag"})
        assert a.structured_content["runbooks"][0]["update_count"] == 1
        page = await call(c, "runbook_analytics", {"limit": 2})
        rest = await call(c, "runbook_analytics", {"limit": 2, "cursor": page.structured_content["next_cursor"]})
        ids = [r["id"] for r in page.structured_content["runbooks"] + rest.structured_content["runbooks"]]
        assert len(ids) == 4 and ids == sorted(ids) and page.structured_content["total"] == 5


async def test_case_tool_creates_then_reuses(fm_service):
    case = load_case("gen3_redis_oom.json")
    async with Client(build_server(fm_service)) as c:
        first = await call(c, "create_runbook_from_case", {"case": case})
        assert first.structured_content["status"] == "created"
        again = await call(c, "create_runbook_from_case", {"case": case})
        assert again.structured_content["status"] == "existing" and again.structured_content["draft"] is True
        assert again.structured_content["runbook_id"] == first.structured_content["runbook_id"]
        case["state"] = "inquiry"
        bad = await call(c, "create_runbook_from_case", {"case": case})
        assert bad.is_error and "not resolved" in bad.content[0].text


async def test_prompts(fm_service):
    async with Client(build_server(fm_service)) as c:
        names = {p.name for p in (await c.list_prompts()).prompts}
        assert {"runbook_offer", "runbook_writing"} <= names
        texts = {}
        for variant in ("minimal", "standard", "detailed"):
            r = await c.get_prompt("runbook_offer", {"variant": variant, "case_title": "Redis OOM"})
            texts[variant] = r.messages[0].content.text
            assert "Glad we solved it!" in texts[variant]
        assert len(texts["minimal"]) < len(texts["standard"]) < len(texts["detailed"])
        assert "Redis OOM" in texts["minimal"]
        w = await c.get_prompt("runbook_writing", {"case_summary": "Redis OOM after deploy"})
        text = w.messages[0].content.text
        for part in ("## Problem Summary", "## Diagnosis Steps", "## Root Cause", "## Solution", "## Prevention"):
            assert part in text
        assert text.endswith("Redis OOM after deploy")
