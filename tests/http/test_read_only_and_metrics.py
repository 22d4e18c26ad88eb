"""`serve --read-only` over REST closes every write, as it does over MCP; and /metrics counts MCP
tool calls and runbooks alongside HTTP requests."""

from __future__ import annotations

import httpx
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from faultmaven_runbooks.service import RunbookService
from tests.http.http_support import TOKEN, make_settings, write_library

AUTH = {"Authorization": f"Bearer {TOKEN}"}
NEW = {"title": "Kafka Consumer Lag", "content": "## Steps\nCheck lag: `kubectl logs deploy/consumer -n {namespace}`"}
WRITES = [
    ("post", "/runbooks/create", NEW),
    ("post", "/api/v1/runbooks", NEW),
    ("put", "/runbooks/disk-full", {"severity": "low"}),
    ("post", "/runbooks/learn", {"incident_data": {"type": "pod_crash", "success": True, "diagnosis": ["oom"]}}),
    ("post", "/api/v1/cases/case_0123456789ab/runbook", {"case_id": "case_0123456789ab", "title": "Disk full",
                                                         "state": "resolved"}),
    ("post", "/storage/backups", {"kind": "daily"}),
    ("post", "/runbooks/executions/exec-0123456789ab/approve", {}),
    ("post", "/runbooks/executions/exec-0123456789ab/reject", {}),
]


@pytest.fixture(scope="module")
def read_only(start_server, tmp_path_factory):
    library = write_library(tmp_path_factory.mktemp("ro-library"))
    data = tmp_path_factory.mktemp("ro-data")
    service = RunbookService(make_settings(library, data, auth_token=TOKEN))
    service.ready()  # indexed before the first search: a search never waits for indexing
    live = start_server(service=service, mcp=False, read_only=True)
    with httpx.Client(base_url=live.url, headers=AUTH, timeout=60) as client:
        yield client, library, data


@pytest.mark.parametrize("method, path, body", WRITES, ids=[f"{m} {p}" for m, p, _ in WRITES])
def test_read_only_refuses_every_write(read_only, method, path, body):
    client, library, data = read_only
    before = sorted(p.relative_to(library) for p in library.rglob("*"))
    r = client.request(method.upper(), path, json=body)
    assert r.status_code == 403, r.text
    assert "read-only" in r.json()["message"]
    assert sorted(p.relative_to(library) for p in library.rglob("*")) == before
    assert not (data / "backups").exists()


def test_read_only_still_reads_and_searches(read_only):
    client, _, _ = read_only
    assert client.get("/runbooks/search", params={"q": "disk full"}).json()["results"][0]["id"] == "disk-full"
    assert client.get("/runbooks/disk-full").status_code == 200
    assert client.get("/storage/backups").status_code == 200


def test_read_only_execute_is_forced_to_a_dry_run(read_only):
    client, _, _ = read_only
    r = client.post("/runbooks/execute", json={"runbook_id": "pod-crashloop",
                                               "parameters": {"dry_run": False, "steps": [3]}})
    assert r.status_code == 200, r.text
    assert r.json()["dry_run"] is True and r.json()["status"] != "awaiting_approval"


def _value(text: str, series: str) -> float:
    return next((float(line.split()[-1]) for line in text.splitlines() if line.startswith(series + " ")), 0.0)


@pytest.mark.anyio
async def test_metrics_count_mcp_tool_calls_and_runbooks(live):
    before = httpx.get(f"{live.url}/metrics", headers=AUTH).text
    async with create_mcp_http_client(headers=AUTH) as http:
        async with Client(streamable_http_client(f"{live.url}/mcp", http_client=http)) as client:
            await client.call_tool("search", {"query": "NodeFilesystemSpaceFillingUp disk full"})
            await client.call_tool("get_runbook", {"runbook_id": "disk-full"})
            await client.call_tool("get_runbook", {"runbook_id": "no-such-runbook"})
    after = httpx.get(f"{live.url}/metrics", headers=AUTH).text
    for series, grew in [
        ('faultmaven_tool_calls_total{outcome="ok",tool="search"}', 1),
        ('faultmaven_tool_calls_total{outcome="ok",tool="get_runbook"}', 1),
        ('faultmaven_tool_calls_total{outcome="error",tool="get_runbook"}', 1),
        ('faultmaven_runbook_retrievals_total{runbook_id="disk-full"}', 1),
        ('faultmaven_runbook_reads_total{runbook_id="disk-full"}', 1),
        ('faultmaven_searches_total{entry="mcp:search"}', 1),
    ]:
        assert _value(after, series) == _value(before, series) + grew, series
    assert 'faultmaven_tool_call_duration_seconds_count{tool="search"}' in after


@pytest.fixture
def anyio_backend():
    return "asyncio"
