"""What MCP clients expect around the tools, through the real SDK client: logging, progress,
completions, paged resources, exact error codes, batches refused, and operator-chosen surfaces."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp.types import PromptReference, ResourceTemplateReference

from faultmaven_runbooks.adapters.http import build_app
from faultmaven_runbooks.adapters.mcp.server import build_server, parse_toolsets
from faultmaven_runbooks.search.embedder import HashingEmbedder
from faultmaven_runbooks.service import RunbookService

pytestmark = pytest.mark.anyio
INCIDENT = {"id": "INC-42", "type": "pod_crash", "diagnosis": ["memory limit exceeded"], "success": True}


@pytest.fixture
def anyio_backend():
    return "asyncio"


def collect() -> tuple[list, object]:
    received = []

    async def on_log(params):
        received.append(params)

    return received, on_log


async def test_logging_set_level_filters_what_tool_calls_send(service, caplog):
    caplog.set_level(logging.INFO, logger="faultmaven_runbooks")
    received, on_log = collect()
    async with Client(build_server(service), mode="legacy", logging_callback=on_log) as client:
        assert client.server_capabilities.logging is not None
        await client.set_logging_level("info")
        await client.call_tool("learn", {"incident_data": INCIDENT})
        await client.call_tool("learn", {"incident_data": INCIDENT})  # the same incident again
        said = [p for p in received if "learned before" in str(p.data)]
        assert said and said[0].level == "info" and said[0].logger == "faultmaven_runbooks.learning.service"
        await client.set_logging_level("error")
        before = len(received)
        await client.call_tool("learn", {"incident_data": INCIDENT})
        assert len(received) == before


async def test_log_messages_on_the_2026_protocol_need_the_request_opt_in(service, caplog):
    caplog.set_level(logging.INFO, logger="faultmaven_runbooks")
    received, on_log = collect()
    async with Client(build_server(service), log_level="info", logging_callback=on_log) as client:
        assert client.protocol_version >= "2026"
        for _ in range(2):
            await client.call_tool("learn", {"incident_data": INCIDENT})
    assert any("learned before" in str(p.data) for p in received)


class SlowingEmbedder(HashingEmbedder):
    """Like a model on a busy machine: once `wait` is set, the next call takes that long."""

    def __init__(self):
        super().__init__(256)
        self.wait = 0.0

    def embed(self, texts):
        if self.wait:
            time.sleep(self.wait)
            self.wait = 0.0
        return super().embed(texts)


async def test_a_long_call_sends_progress_notifications(settings):
    embedder = SlowingEmbedder()
    slow = RunbookService(settings, embedder=embedder)
    slow.reindex()
    embedder.wait = 2.6  # `learn` embeds the incident: this call takes 2.6 s
    progress = []

    async def on_progress(done, total, message):
        progress.append((done, message))

    incident = {"type": "disk_full", "success": True, "symptoms": ["node DiskPressure"], "resolution": ["rotate logs"]}
    async with Client(build_server(slow)) as client:
        result = await client.call_tool("learn", {"incident_data": incident}, progress_callback=on_progress)
    assert not result.is_error
    assert len(progress) >= 2 and [p[0] for p in progress] == sorted(p[0] for p in progress)
    assert all(message.startswith("learn: working") for _, message in progress)


async def test_completions_for_ids_sections_and_prompt_variants(service):
    async with Client(build_server(service), mode="legacy") as client:
        assert client.server_capabilities.completions is not None
        ids = await client.complete(ResourceTemplateReference(uri="runbook://{runbook_id}"),
                                    {"name": "runbook_id", "value": "tls"})
        assert ids.completion.values == ["tls-certificate-expired"]
        prompt_ids = await client.complete(PromptReference(name="use_runbook"), {"name": "runbook_id", "value": "D"})
        values = prompt_ids.completion.values  # what starts with the typed text first, then what contains it
        assert values[0] == "dns-resolution-failures" and all("d" in v for v in values) and len(values) > 1
        sections = await client.complete(PromptReference(name="use_runbook"), {"name": "section", "value": "sol"},
                                         context_arguments={"runbook_id": "Pod-CrashLoop"})
        assert sections.completion.values and all("Solution" in v for v in sections.completion.values)
        variants = await client.complete(PromptReference(name="runbook_offer"), {"name": "variant", "value": ""})
        assert variants.completion.values == ["minimal", "standard", "detailed"]


async def test_resources_list_the_runbooks_a_page_at_a_time(service, library_dir):
    for n in range(60):
        (library_dir / "static" / f"extra-{n:02d}.md").write_text(f"# Extra runbook {n}\n\nSteps for case {n}.\n")
    async with Client(build_server(service), mode="legacy") as client:
        first = await client.list_resources()
        second = await client.list_resources(cursor=first.next_cursor)
        with pytest.raises(MCPError) as bad:
            await client.list_resources(cursor="not-a-cursor")
    assert len(first.resources) == 50 and second.next_cursor is None
    uris = [r.uri for r in first.resources + second.resources]
    assert len(uris) == len(set(uris)) == 69 and uris == sorted(uris)
    assert {"runbook://pod-crashloop", "runbook://extra-59"} <= set(uris)
    assert all(r.mime_type == "text/markdown" and r.name and r.title for r in first.resources)
    assert bad.value.error.code == -32602


@pytest.mark.parametrize("name, args, fragment", [
    ("no_such_prompt", {}, "prompts: runbook_offer, runbook_writing, use_runbook"),
    ("runbook_offer", {"variant": "huge"}, "variant must be one of minimal, standard, detailed"),
    ("runbook_offer", {"flavour": "x"}, "unknown: flavour"),
    ("use_runbook", {}, "missing: runbook_id"),
    ("use_runbook", {"runbook_id": "no-such-runbook"}, "no runbook with id"),
    ("use_runbook", {"runbook_id": "pod-crashloop", "section": "Nope"}, "its sections are"),
])
async def test_bad_prompt_requests_are_invalid_params_naming_what_is_allowed(service, name, args, fragment):
    async with Client(build_server(service), mode="legacy") as client:
        with pytest.raises(MCPError) as caught:
            await client.get_prompt(name, args)
        assert caught.value.error.code == -32602 and fragment in caught.value.error.message
        good = await client.get_prompt("use_runbook", {"runbook_id": "KubePodCrashLooping", "section": "Solution"})
        assert "Immediate Fix" in good.messages[0].content.text and "`execute`" in good.messages[0].content.text


def test_stdio_answers_a_batch_and_an_unreadable_line(library_dir, tmp_path):
    exe = Path(sys.executable).with_name("faultmaven-runbooks")
    lines = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize",
         "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        [{"jsonrpc": "2.0", "id": 2, "method": "ping"}, {"jsonrpc": "2.0", "id": 3, "method": "tools/list"}],
        "{not json",
        {"jsonrpc": "2.0", "id": 4, "method": "ping"},
    ]
    proc = subprocess.Popen([str(exe), "serve", "--library", str(library_dir), "--data", str(tmp_path / "data")],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env={**os.environ, "FAULTMAVEN_RUNBOOKS_EMBEDDING_MODEL": "hash:256"})
    watchdog = threading.Timer(60, proc.kill)  # a server that never answers fails the test, not hangs it
    watchdog.start()
    try:
        proc.stdin.write("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
        proc.stdin.flush()
        answers = [json.loads(proc.stdout.readline()) for _ in range(4)]
    finally:
        watchdog.cancel()
        proc.stdin.close()
        proc.wait(timeout=30)
    assert [a.get("id") for a in answers] == [1, None, None, 4]
    assert answers[1]["error"]["code"] == -32600 and "batches" in answers[1]["error"]["message"]
    assert answers[2]["error"]["code"] == -32700
    assert answers[3]["result"] == {}


async def test_http_refuses_a_batch_with_invalid_request(service):
    app = build_app(service, build_server(service), service.settings)
    batch = [{"jsonrpc": "2.0", "id": 1, "method": "ping"}]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8080") as http:
        answer = await http.post("/mcp", content=json.dumps(batch),
                                 headers={"content-type": "application/json", "accept": "application/json, text/event-stream"})
    assert answer.status_code == 400
    assert answer.json() == {"jsonrpc": "2.0", "id": None,
                             "error": {"code": -32600, "message": answer.json()["error"]["message"]}}
    assert "pydantic" not in answer.text and "batches" in answer.text


async def test_toolsets_choose_the_tools(service):
    async with Client(build_server(service, toolsets=parse_toolsets("search,learning"))) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        refused = await client.call_tool("create_runbook", {"title": "Kafka lag", "content": "x" * 40})
    assert names == {"search", "suggest_similar", "get_runbook", "learn", "get_patterns", "runbook_analytics",
                     "create_runbook_from_case"}
    assert refused.is_error
    with pytest.raises(ValueError, match="choose from search, execute, learning, authoring"):
        parse_toolsets("search,deploy")


async def test_read_only_offers_reads_and_writes_nothing(service, library_dir, tmp_path):
    before = sorted(p.relative_to(library_dir).as_posix() for p in library_dir.rglob("*.md"))
    async with Client(build_server(service, read_only=True)) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert not names & {"create_runbook", "update_runbook", "learn", "create_runbook_from_case"}
        assert {"search", "get_runbook", "execute", "list_executions", "runbook_history", "get_patterns"} <= names
        assert "read-only" in client.instructions
        prompts = {p.name for p in (await client.list_prompts()).prompts}
        assert prompts == {"use_runbook"}  # the others offer to write a runbook
    assert sorted(p.relative_to(library_dir).as_posix() for p in library_dir.rglob("*.md")) == before
