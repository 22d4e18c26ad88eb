"""The agent's side over real transports: the MCP SDK client over streamable HTTP (a listening
uvicorn server) and over stdio (a `faultmaven-runbooks serve` subprocess), against the fake
Kubernetes API that records every request. Nothing an MCP client says approves a change; a
person with an approver credential does, and the change reaches the API exactly once."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import httpx
import pytest
from mcp import Client, StdioServerParameters, types
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from faultmaven_runbooks.adapters.http import build_app
from faultmaven_runbooks.adapters.mcp.server import build_server
from faultmaven_runbooks.service import RunbookService
from tests.http.http_support import LiveServer

from .conftest import CTX, NS, POD

pytestmark = pytest.mark.anyio
TOKEN = "api-token-for-the-agent-0123456789"
CHANGE_STEP = """---
id: agent-made
title: Agent made runbook
---
# Agent made runbook

## Fix
Restart the web pod:
```bash
kubectl -n {namespace} delete pod {pod_name}
```
"""


@pytest.fixture
def anyio_backend():
    return "asyncio"


def _always_yes():
    asked = []

    async def callback(context, params):
        asked.append(params)
        return types.ElicitResult(action="accept", content={"approve": True, "reason": "the agent says yes"})

    return callback, asked


def _data(result) -> dict:
    return json.loads(result.content[0].text)


@pytest.fixture
def http_server(exec_settings, kube, tmp_path, clock):
    # trust_elicitation is on, and must still be ignored: over HTTP the client is a remote program
    settings = exec_settings.replace(kubeconfig=kube.kubeconfig(tmp_path / "kubeconfig"), auth_token=TOKEN,
                                     trust_elicitation=True)
    service = RunbookService(settings, clock=clock)
    live = LiveServer(build_app(service, build_server(service), settings)).start()
    yield live, service
    live.stop()


async def test_over_streamable_http_the_agent_cannot_approve_and_a_person_applies_once(http_server, kube):
    live, service = http_server
    callback, asked = _always_yes()
    async with create_mcp_http_client(headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        async with Client(streamable_http_client(f"{live.url}/mcp", http_client=http),
                          elicitation_callback=callback) as client:
            # the chained attack: write a runbook with a change step, then run it and say yes
            created = await client.call_tool("create_runbook", {"title": "Agent made runbook", "content": CHANGE_STEP,
                                                                "type": "static", "runbook_id": "agent-made"})
            assert not created.is_error, created.content
            run = await client.call_tool("execute", {"runbook_id": "agent-made", "context": CTX,
                                                     "parameters": {"dry_run": False, "steps": [1]}})
            data = _data(run)
            # the agent is only offered the console page (URL mode), and saying yes to it approves nothing
            assert data["outcome"] == "needs_approval" and [p.mode for p in asked] == ["url"]
            shown = _data(await client.call_tool("get_execution", {"execution_id": data["execution_id"]}))
            assert shown["status"] == "awaiting_approval"
    assert kube.changes() == [] and kube.get("pods", POD, NS) is not None
    url = f"{live.url}/runbooks/executions/{data['execution_id']}/approve"
    with httpx.Client(timeout=30) as web:
        assert web.post(url, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 403  # no approvers yet
        token = service.executions.approvers.add("alice")
        agent = web.post(url, headers={"Authorization": f"Bearer {TOKEN}"}, json={"approver": "alice"})
        assert agent.status_code == 403 and "API token cannot approve" in agent.json()["message"]
        assert kube.changes() == []
        human = web.post(url, headers={"Authorization": f"Bearer {token}"}, json={"reason": "verified"})
        assert human.status_code == 200 and human.json()["status"] == "completed", human.text
        assert web.post(url, headers={"Authorization": f"Bearer {token}"}).status_code == 409
    assert len(kube.changes()) == 1 and kube.get("pods", POD, NS) is None


def _stdio(exec_settings, library, kube, tmp_path, **env) -> StdioServerParameters:
    exe = Path(sys.executable).with_name("faultmaven-runbooks")
    return StdioServerParameters(command=str(exe), args=[
        "serve", "--library", str(library), "--data", str(exec_settings.data_dir)], env={
        **os.environ, "HF_HUB_OFFLINE": "1", "FAULTMAVEN_RUNBOOKS_EMBEDDING_MODEL": "hash:256",
        "FAULTMAVEN_RUNBOOKS_KUBECONFIG": str(kube.kubeconfig(tmp_path / "kubeconfig")), **env})


async def test_over_stdio_elicitation_is_not_approval_by_default(exec_settings, sampler_library, kube, tmp_path):
    callback, asked = _always_yes()
    async with Client(_stdio(exec_settings, sampler_library, kube, tmp_path), elicitation_callback=callback) as client:
        run = await client.call_tool("execute", {"runbook_id": "exec-sampler", "context": CTX,
                                                 "parameters": {"dry_run": False, "option": "A"}})
    assert _data(run)["outcome"] == "needs_approval" and asked == [] and kube.changes() == []


async def test_over_stdio_a_trusting_operator_lets_the_local_user_approve(exec_settings, sampler_library, kube,
                                                                         tmp_path):
    callback, asked = _always_yes()
    params = _stdio(exec_settings, sampler_library, kube, tmp_path, FAULTMAVEN_RUNBOOKS_TRUST_ELICITATION="true")
    async with Client(params, elicitation_callback=callback) as client:
        run = await client.call_tool("execute", {"runbook_id": "exec-sampler", "context": CTX,
                                                 "parameters": {"dry_run": False, "steps": [10]}})
    data = _data(run)
    assert data["status"] == "completed" and len(asked) == 1 and data["approval"]["via"] == "mcp-elicitation"
    assert len(kube.changes()) == 1


def test_the_cli_approves_through_the_running_server(http_server, kube, capsys, monkeypatch, tmp_path):
    from faultmaven_runbooks.adapters.cli.main import main as cli_main

    live, service = http_server
    run = httpx.post(f"{live.url}/runbooks/execute", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60, json={
        "runbook_id": "exec-sampler", "context": CTX, "parameters": {"dry_run": False, "steps": [10]}}).json()
    monkeypatch.setenv("FAULTMAVEN_RUNBOOKS_APPROVER_TOKEN", service.executions.approvers.add("alice"))
    monkeypatch.chdir(tmp_path)  # another working dir, no cluster of its own: the server acts where it planned
    assert cli_main(["approve", run["execution_id"], "--yes", "--server", live.url]) == 0, capsys.readouterr().err
    assert json.loads(capsys.readouterr().out)["status"] == "completed"
    assert cli_main(["approve", run["execution_id"], "--yes", "--server", live.url]) == 2
    assert "answered 409" in capsys.readouterr().err
    assert len(kube.changes()) == 1
