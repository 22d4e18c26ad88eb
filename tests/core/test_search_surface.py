"""The search contract where clients meet it: the status filter and the signals in `why`,
through the real MCP SDK client (in memory) and the REST API on a real listening server."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from mcp import Client

from faultmaven_runbooks.adapters.http import build_app
from faultmaven_runbooks.adapters.mcp.server import build_server
from faultmaven_runbooks.service import RunbookService
from faultmaven_runbooks.settings import Settings
from tests.http.http_support import TOKEN, LiveServer

pytestmark = pytest.mark.anyio

BODY = "Redis pods are OOMKilled when session objects grow; raise the memory limit and trim sessions.\n"


@pytest.fixture
def service(tmp_path: Path) -> RunbookService:
    library = tmp_path / "library"
    for rel, text in {
        "static/redis-oom.md": "---\nid: redis-oom\nstatus: verified\n---\n# Redis OOM\n\n" + BODY,
        "dynamic/incidents/redis-sessions.md": "---\nid: redis-sessions\n---\n# Redis sessions grew\n\n" + BODY,
    }.items():
        (library / rel).parent.mkdir(parents=True, exist_ok=True)
        (library / rel).write_text(text)
    svc = RunbookService(Settings(library_dir=library, data_dir=tmp_path / "data", embedding_model="hash:256",
                                  auth_token=TOKEN))
    svc.reindex()
    return svc


async def test_mcp_search_filters_by_status_and_reports_signals(service):
    async with Client(build_server(service)) as client:
        result = await client.call_tool("search", {"query": "redis OOMKilled sessions", "status": "draft"})
        assert not result.is_error
        hits = result.structured_content["results"]
        assert [h["id"] for h in hits] == ["redis-sessions"] and hits[0]["status"] == "draft"
        assert set(hits[0]["why"]) >= {"exact_identifier", "keyword_coverage", "semantic_similarity"}
        both = (await client.call_tool("search", {"query": "redis OOMKilled sessions"})).structured_content
        assert [h["id"] for h in both["results"]] == ["redis-oom", "redis-sessions"]
        scores = [h["relevance_score"] for h in both["results"]]
        assert scores == sorted(scores, reverse=True)
        bad = await client.call_tool("search", {"query": "redis", "status": "approved"})
        assert bad.is_error


def test_rest_search_filters_by_status(service):
    app = build_app(service, None, service.settings)
    live = LiveServer(app).start()
    try:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        r = httpx.get(f"{live.url}/runbooks/search", params={"q": "redis OOMKilled", "status": "verified"},
                      headers=headers, timeout=30)
        assert r.status_code == 200, r.text
        assert [h["id"] for h in r.json()["results"]] == ["redis-oom"]
        r = httpx.get(f"{live.url}/runbooks/search", params={"q": "redis", "status": "approved"}, headers=headers,
                      timeout=30)
        assert r.status_code == 400 and "status" in r.text
    finally:
        live.stop()
