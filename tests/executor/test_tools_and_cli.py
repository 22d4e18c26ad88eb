"""MCP tools (`execute`, `list_executions`) through the SDK's in-memory Client, and the CLI commands."""

from __future__ import annotations

import argparse
import json

import pytest
from mcp import Client, types
from mcp.server import MCPServer

from faultmaven_runbooks.adapters.cli.executions import add_cli
from faultmaven_runbooks.adapters.mcp import execution

from .conftest import CTX, NS, POD

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def server(runbook_service, executor):
    runbook_service.executions = executor
    srv = MCPServer("executor-test")
    execution.register(srv, runbook_service)
    return srv


def _answer(action: str, content: dict | None = None):
    asked = []

    async def callback(context, params):
        asked.append(params.message)
        return types.ElicitResult(action=action, content=content)

    return callback, asked


@pytest.mark.parametrize("mode", ["auto", "legacy"])  # 2026-07-28 input_required round, and push elicitation
async def test_execute_asks_a_human_through_elicitation_and_applies(server, kube, mode):
    callback, asked = _answer("accept", {"approve": True, "approver": "alice", "reason": "ok"})
    progress = []

    async def on_progress(done, total, message):
        progress.append((done, total, message))

    async with Client(server, elicitation_callback=callback, mode=mode) as client:
        result = await client.call_tool("execute", {"runbook_id": "exec-sampler", "context": CTX,
                                                    "parameters": {"dry_run": False, "steps": [2, 10]}},
                                        progress_callback=on_progress)
    assert not result.is_error, result.content
    data = result.structured_content
    assert data["status"] == "completed" and data["approval"]["approver"] == "alice"
    assert "delete pod" in asked[0] and data["execution_id"] in asked[0]
    assert kube.get("pods", POD, NS) is None
    assert [p[0] for p in progress] == [0, 1, 2] and progress[0][1] == 2


async def test_declined_elicitation_rejects(server, kube):
    callback, _ = _answer("decline")
    async with Client(server, elicitation_callback=callback) as client:
        result = await client.call_tool("execute", {"runbook_id": "exec-sampler", "context": CTX,
                                                    "parameters": {"dry_run": False, "steps": [10]}})
    assert result.structured_content["status"] == "rejected"
    assert kube.changes() == []


async def test_client_without_elicitation_is_denied(server, kube):
    async with Client(server) as client:
        result = await client.call_tool("execute", {"runbook_id": "exec-sampler", "context": CTX,
                                                    "parameters": {"dry_run": False, "steps": [10]}})
        data = result.structured_content
        assert data["status"] == "awaiting_approval"
        assert "Approval denied through MCP" in data["recommendations"][-1]
        assert kube.changes() == []
        listing = await client.call_tool("list_executions", {"status": "awaiting_approval"})
        assert listing.structured_content["executions"][0]["execution_id"] == data["execution_id"]


async def test_self_approval_via_elicitation_is_refused(server, kube):
    callback, _ = _answer("accept", {"approve": True, "approver": "mcp-client"})
    async with Client(server, elicitation_callback=callback) as client:
        result = await client.call_tool("execute", {"runbook_id": "exec-sampler", "context": CTX,
                                                    "parameters": {"dry_run": False, "steps": [10]}})
    data = result.structured_content
    assert data["status"] == "awaiting_approval" and "cannot approve it" in data["recommendations"][-1]
    assert kube.changes() == []


async def test_tool_errors_and_schema(server):
    async with Client(server) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert tools["execute"].annotations.destructive_hint is True
        assert tools["list_executions"].annotations.read_only_hint is True
        assert "steps" in json.dumps(tools["execute"].output_schema)
        missing = await client.call_tool("execute", {"runbook_id": "nope", "context": CTX})
        assert missing.is_error and "no runbook with id 'nope'" in missing.content[0].text
        bad = await client.call_tool("list_executions", {"limit": 0})
        assert bad.is_error
        dry = await client.call_tool("execute", {"runbook_id": "exec-sampler", "context": CTX})
        assert dry.structured_content["status"] == "dry_run_completed"
        assert dry.structured_content["steps"][0]["classification"] == "read"


def _cli(runbook_service):
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    add_cli(sub, lambda args: runbook_service)
    return parser


def test_cli_approve_and_executions(runbook_service, executor, kube, capsys):
    runbook_service.executions = executor
    result = executor.execute("exec-sampler", CTX, {"dry_run": False, "steps": [10]})
    parser = _cli(runbook_service)
    args = parser.parse_args(["executions", "--status", "awaiting_approval"])
    assert args.func(args) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["executions"][0]["execution_id"] == result.execution_id
    args = parser.parse_args(["approve", result.execution_id, "--approver", "alice", "--yes"])
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "completed" and out["approval"]["approver"] == "alice"
    assert kube.get("pods", POD, NS) is None


def test_cli_reject_and_requester_cannot_approve(runbook_service, executor, kube, capsys):
    from faultmaven_runbooks.errors import Forbidden

    runbook_service.executions = executor
    result = executor.execute("exec-sampler", CTX, {"dry_run": False, "steps": [10]}, requester="bob")
    parser = _cli(runbook_service)
    args = parser.parse_args(["approve", result.execution_id, "--approver", "bob", "--yes"])
    with pytest.raises(Forbidden):
        args.func(args)
    args = parser.parse_args(["approve", result.execution_id, "--reject", "--approver", "alice"])
    assert args.func(args) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "rejected"
    assert kube.changes() == []
