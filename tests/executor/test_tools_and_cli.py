"""The MCP tools through the SDK's in-memory Client, and the CLI commands (approve, plan,
executions, approvers)."""

from __future__ import annotations

import argparse
import getpass
import hashlib
import json

import pytest
from mcp import Client, types
from mcp.server import MCPServer

from faultmaven_runbooks.adapters.cli import approvers as approvers_cli
from faultmaven_runbooks.adapters.cli.executions import add_cli
from faultmaven_runbooks.adapters.cli.main import main as cli_main
from faultmaven_runbooks.adapters.mcp import execution
from faultmaven_runbooks.errors import Forbidden, NotFound
from faultmaven_runbooks.executor.service import ExecutionService
from faultmaven_runbooks.service import RunbookService
from faultmaven_runbooks.settings import Settings
from faultmaven_runbooks.storage import open_store

from .conftest import CTX, NS, POD

pytestmark = pytest.mark.anyio
FIX = {"dry_run": False, "option": "A"}  # the sampler's fix: set resources, delete the pod


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def kube_settings(exec_settings, kube, tmp_path):
    """Settings that reach the fake cluster through a kubeconfig, as a deployment would."""
    return exec_settings.model_copy(update={"kubeconfig": kube.kubeconfig(tmp_path / "kubeconfig")})


def _server(settings, clock, trust: bool = False) -> tuple[MCPServer, RunbookService]:
    service = RunbookService(settings.model_copy(update={"trust_elicitation": trust}), clock=clock)
    server = MCPServer("executor-test")
    execution.register(server, service)
    return server, service


def _answer(action: str, content: dict | None = None):
    asked = []

    async def callback(context, params):
        asked.append(params.message)
        return types.ElicitResult(action=action, content=content)

    return callback, asked


def _data(result) -> dict:
    return json.loads(result.content[0].text)


async def test_tools_are_titled_annotated_and_compact(kube_settings, clock):
    server, _ = _server(kube_settings, clock)
    async with Client(server) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == {"plan", "execute", "get_execution", "list_executions"}
    for name in ("plan", "get_execution", "list_executions"):
        assert tools[name].title and tools[name].annotations.read_only_hint is True
    assert tools["execute"].annotations.destructive_hint is True and tools["execute"].title
    for name, tool in tools.items():  # the agent-contract budget: every tools/list stays small
        assert len(json.dumps(tool.model_dump(mode="json", exclude_none=True))) < 3000, name


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_an_agent_answering_its_own_elicitation_changes_nothing(kube_settings, clock, kube, mode):
    server, _ = _server(kube_settings, clock)
    callback, asked = _answer("accept", {"approve": True, "reason": "looks fine to me"})
    async with Client(server, elicitation_callback=callback, mode=mode) as client:
        result = await client.call_tool("execute", {"runbook_id": "exec-sampler", "context": CTX, "parameters": FIX})
    data = _data(result)
    assert not result.is_error and data["outcome"] == "needs_approval" and asked == []
    assert "approvers add" in data["approval"]["how"] and "the model cannot approve" in data["approval"]["how"]
    assert kube.changes() == []


@pytest.mark.parametrize("mode", ["auto", "legacy"])  # an input_required round, and a pushed prompt
async def test_trusted_elicitation_lets_the_local_user_approve_once(kube_settings, clock, kube, mode):
    server, _ = _server(kube_settings, clock, trust=True)
    callback, asked = _answer("accept", {"approve": True, "reason": "ok"})
    async with Client(server, elicitation_callback=callback, mode=mode) as client:
        result = await client.call_tool("execute", {"runbook_id": "exec-sampler", "context": CTX, "parameters": FIX})
    data = _data(result)
    assert data["status"] == "completed" and data["approval"]["via"] == "mcp-elicitation"
    assert data["approval"]["approver"] == f"local-user:{getpass.getuser()}"
    assert "delete pod" in asked[0] and len(kube.changes()) == 2 and kube.get("pods", POD, NS) is None


async def test_trusted_elicitation_declined_rejects(kube_settings, clock, kube):
    server, _ = _server(kube_settings, clock, trust=True)
    callback, _ = _answer("decline")
    async with Client(server, elicitation_callback=callback) as client:
        result = await client.call_tool("execute", {"runbook_id": "exec-sampler", "context": CTX, "parameters": FIX})
    assert _data(result)["status"] == "rejected" and kube.changes() == []


async def test_plan_get_list_and_failing_outcomes(kube_settings, clock, kube, exec_library):
    (exec_library / "static" / "bad.md").write_text("---\nid: bad\n---\n# Bad\n\n## Diagnosis\n```bash\nkubectl get secrets\n```\n")
    server, _ = _server(kube_settings, clock)
    async with Client(server) as client:
        preview = await client.call_tool("plan", {"runbook_id": "exec-sampler", "context": CTX, "option": "A"})
        assert [s["step"] for s in _data(preview)["steps"]] == [9, 10] and kube.requests == []
        refused = await client.call_tool("execute", {"runbook_id": "bad", "context": CTX})
        assert refused.is_error and _data(refused)["outcome"] == "all_refused"
        run = _data(await client.call_tool("execute", {"runbook_id": "exec-sampler", "context": CTX}))
        assert run["outcome"] == "ok" and all(s["classification"] != "change" for s in run["steps"])
        shown = _data(await client.call_tool("get_execution", {"execution_id": run["execution_id"]}))
        assert shown["execution_id"] == run["execution_id"] and shown["findings"]
        step = _data(await client.call_tool("get_execution", {"execution_id": run["execution_id"], "step": 2}))
        assert step["steps"][0]["step"] == 2 and "CrashLoopBackOff" in step["steps"][0]["output"]
        missing = await client.call_tool("get_execution", {"execution_id": "exec-000000000000"})
        assert missing.is_error and "faultmaven-runbooks executions" in missing.content[0].text
        page = _data(await client.call_tool("list_executions", {"limit": 1}))
        rest = _data(await client.call_tool("list_executions", {"limit": 5, "cursor": page["next_cursor"]}))
        assert len(page["executions"]) == 1 and len(rest["executions"]) == 1 and "next_cursor" not in rest
        unknown = await client.call_tool("execute", {"runbook_id": "nope", "context": CTX})
        assert unknown.is_error and "no runbook with id 'nope'" in unknown.content[0].text


# -- the CLI ----------------------------------------------------------------------------------
def _cli(service):
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    add_cli(sub, lambda args: service)
    approvers_cli.add_cli(sub, lambda args: service)
    return parser


def _run(parser, *argv) -> int:
    args = parser.parse_args(list(argv))
    return args.func(args)


def test_cli_approvers_add_list_remove(tmp_path, capsys):
    data = str(tmp_path / "data")
    assert cli_main(["approvers", "add", "alice", "--data", data]) == 0
    out, err = capsys.readouterr()
    token = out.strip()
    assert token.startswith("fmra_") and "shown once" in err
    store = open_store(Settings(_env_file=None, data_dir=tmp_path / "data"))
    assert [a.token_hash for a in store.approvers.list()] == [hashlib.sha256(token.encode()).hexdigest()]
    store.close()
    assert cli_main(["approvers", "list", "--data", data]) == 0
    assert [a["name"] for a in json.loads(capsys.readouterr().out)["approvers"]] == ["alice"]
    assert cli_main(["approvers", "remove", "alice", "--data", data]) == 0
    assert cli_main(["approvers", "add", "bad name", "--data", data]) == 2  # a clear error, exit 2


def test_cli_approve_needs_a_credential_and_applies_once(kube_settings, clock, kube, capsys):
    service = RunbookService(kube_settings, clock=clock)
    token = service.executions.approvers.add("alice")
    result = service.executions.execute("exec-sampler", CTX, FIX, requester="claude")
    wrong = RunbookService(kube_settings.model_copy(update={"approver_token": "fmra_not-a-real-token"}), clock=clock)
    with pytest.raises(Forbidden, match="--data"):
        _run(_cli(wrong), "approve", result.execution_id, "--yes")
    person = RunbookService(kube_settings.model_copy(update={"approver_token": token}), clock=clock)
    assert _run(_cli(person), "approve", result.execution_id, "--yes") == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "completed" and out["approval"]["approver"] == "alice" and out["approval"]["via"] == "cli"
    assert len(kube.changes()) == 2
    with pytest.raises(NotFound, match="--server URL"):
        _run(_cli(person), "approve", "exec-000000000000", "--yes")


def test_cli_approve_refuses_another_cluster_naming_flags(kube_settings, clock, kube, tmp_path):
    from .fake_kube import FakeKube, seed

    service = RunbookService(kube_settings, clock=clock)
    token = service.executions.approvers.add("alice")
    result = service.executions.execute("exec-sampler", CTX, FIX)
    other = seed(FakeKube(name="other")).start()
    try:
        person = RunbookService(kube_settings.model_copy(update={"approver_token": token}), clock=clock)
        with pytest.raises(Forbidden, match="--kubeconfig/--context") as info:
            _run(_cli(person), "approve", result.execution_id, "--yes",
                 "--kubeconfig", str(other.kubeconfig(tmp_path / "other.yaml")))
        assert "--server URL" in str(info.value) and "list_executions" not in str(info.value)
        assert other.requests == [] and kube.changes() == []
    finally:
        other.stop()


def test_cli_plan_and_executions(kube_settings, clock, kube, capsys):
    service = RunbookService(kube_settings, clock=clock)
    parser = _cli(service)
    assert _run(parser, "plan", "exec-sampler", "--set", f"namespace={NS}", "--option", "A") == 0
    plan = json.loads(capsys.readouterr().out)
    assert [s["step"] for s in plan["steps"]] == [9, 10] and kube.requests == []
    run = service.executions.execute("exec-sampler", CTX)
    assert _run(parser, "executions", "--limit", "1") == 0
    assert json.loads(capsys.readouterr().out)["executions"][0]["execution_id"] == run.execution_id


def test_reject_through_the_cli_leaves_the_cluster_alone(kube_settings, clock, kube, capsys):
    service = RunbookService(kube_settings, clock=clock)
    token = service.executions.approvers.add("alice")
    result = service.executions.execute("exec-sampler", CTX, FIX)
    person = RunbookService(kube_settings.model_copy(update={"approver_token": token}), clock=clock)
    assert _run(_cli(person), "approve", result.execution_id, "--reject", "--reason", "not now") == 0
    assert json.loads(capsys.readouterr().out)["status"] == "rejected" and kube.changes() == []


def test_the_executor_service_is_shared_by_every_entry(kube_settings, clock):
    service = RunbookService(kube_settings, clock=clock)
    assert isinstance(service.executions, ExecutionService) and service.executions.clock is clock
