"""`serve --read-only`: execute plans and dry-runs against a real (fake) API server, and no path
applies a change, not even a human accepting the approval prompt."""

from __future__ import annotations

import pytest
from mcp import Client, types

from faultmaven_runbooks.adapters.mcp.server import build_server
from faultmaven_runbooks.errors import Forbidden
from faultmaven_runbooks.read_only import PlanOnlyExecutions
from tests.executor.conftest import (  # noqa: F401  (fixtures: the fake API server and an executor on it)
    CTX,
    NS,
    POD,
    exec_library,
    exec_settings,
    executor,
    kube,
    make_executor,
    runbook_service,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


async def test_read_only_execute_dry_runs_and_never_applies(runbook_service, executor, kube):
    runbook_service.executions = executor
    asked = []

    async def approve(context, params):  # a human who would say yes to anything
        asked.append(params.message)
        return types.ElicitResult(action="accept", content={"approve": True, "approver": "alice", "reason": "ok"})

    async with Client(build_server(runbook_service, read_only=True), elicitation_callback=approve) as client:
        result = await client.call_tool("execute", {"runbook_id": "exec-sampler", "context": CTX,
                                                    "parameters": {"dry_run": False, "steps": [2, 10]}})
    assert not result.is_error, result.content
    data = result.structured_content
    assert data["dry_run"] is True and data["status"] == "dry_run_completed"
    assert {s["result"] for s in data["steps"]} <= {"success", "dry_run"}
    assert asked == [] and kube.get("pods", POD, NS) is not None  # nothing asked, nothing deleted
    with pytest.raises(Forbidden, match="read-only"):  # and the approval path is closed
        PlanOnlyExecutions(executor).approve(data["execution_id"], "alice", "approve", "ok")
