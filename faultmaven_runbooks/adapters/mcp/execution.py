"""MCP tools `execute` and `list_executions`.

Approvals never come from the model: when a plan needs one, the tool asks the human at the
client through MCP elicitation (a push request on older protocol revisions, an
InputRequiredResult round on 2026-07-28+). A client without elicitation gets a deny here;
the approval can still be given out of band (CLI, HTTP API). There is no `approve` tool.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import anyio
import anyio.from_thread
import anyio.to_thread
from mcp.server import MCPServer
from mcp.server.elicitation import render_elicitation_schema
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from mcp_types import ElicitRequest, ElicitRequestFormParams, ElicitResult, InputRequiredResult
from mcp_types.version import is_version_at_least
from pydantic import BaseModel, Field

from ...errors import RunbookError
from ...executor.models import ExecuteParameters, ExecutionList, ExecutionResult, ExecutionStatus
from ...executor.service import ExecutionService

_APPROVAL_KEY = "approval"
_INPUT_REQUIRED_VERSION = "2026-07-28"


class ApprovalForm(BaseModel):
    approve: bool = Field(description="Apply the listed changes to the cluster?")
    approver: str = Field(description="Your name, recorded in the audit log as the approver.")
    reason: str = Field("", description="Optional note for the audit log.")


def _question(result: ExecutionResult) -> str:
    lines = [f"Approve changes for runbook {result.runbook_id!r} (execution {result.execution_id}, "
             f"plan {result.approval.plan_hash[:19]}, expires {result.approval.expires_at})?"]
    for step in result.steps:
        if step.result == "pending_approval":
            lines.append(f"- step {step.step}: {step.command}")
            if step.diff:
                lines.append("  " + step.diff[:600].replace("\n", "\n  "))
    return "\n".join(lines)[:4000]


def _deny_note(result: ExecutionResult, why: str) -> ExecutionResult:
    result.recommendations.append(f"Approval denied through MCP ({why}); the changes were not applied. "
                                  f"{result.approval.how if result.approval else ''}".strip())
    return result


def _decide(executions: ExecutionService, result: ExecutionResult, answer: ElicitResult | None) -> ExecutionResult:
    """Turn the human's elicitation answer into an approval decision."""
    if answer is None or answer.action == "cancel":
        executions.audit.record("approval.elicitation", execution_id=result.execution_id, outcome="cancelled")
        return _deny_note(result, "the approval prompt was dismissed")
    if answer.action == "decline":
        return executions.approve(result.execution_id, "mcp-client-user", "reject", "declined in the MCP client")
    try:
        form = ApprovalForm.model_validate(answer.content or {})
    except ValueError:
        return _deny_note(result, "the approval form was not filled in correctly")
    try:
        return executions.approve(result.execution_id, form.approver, "approve" if form.approve else "reject",
                                  form.reason or "via MCP elicitation")
    except RunbookError as exc:
        return _deny_note(executions.get(result.execution_id), str(exc))


async def _ask(ctx: Context, executions: ExecutionService, result: ExecutionResult) -> ExecutionResult | InputRequiredResult:
    caps = ctx.client_capabilities
    if caps is None or caps.elicitation is None:
        # No way to reach a human from here: the answer is deny, never allow.
        executions.audit.record("approval.elicitation", execution_id=result.execution_id, outcome="unsupported")
        return _deny_note(result, "this MCP client cannot show an approval prompt")
    message = _question(result)
    if ctx.protocol_version and is_version_at_least(ctx.protocol_version, _INPUT_REQUIRED_VERSION):
        request = ElicitRequest(params=ElicitRequestFormParams(
            message=message, requested_schema=render_elicitation_schema(ApprovalForm)))
        state = json.dumps({"execution_id": result.execution_id, "plan_hash": result.plan_hash})
        return InputRequiredResult(input_requests={_APPROVAL_KEY: request}, request_state=state)
    answer = await ctx.elicit(message, ApprovalForm)
    wire = ElicitResult(action=answer.action, content=answer.data.model_dump() if answer.action == "accept" else None)
    return await anyio.to_thread.run_sync(_decide, executions, result, wire)


def _resume(executions: ExecutionService, runbook_id: str, state: str, answer: Any) -> ExecutionResult:
    """Second round (2026-07-28+): the client answered the approval prompt."""
    try:
        data = json.loads(state)
        result = executions.get(str(data["execution_id"]))
    except (ValueError, KeyError, TypeError):
        raise ToolError("the approval round carried unreadable state; call execute again") from None
    if result.runbook_id != runbook_id or result.plan_hash != data.get("plan_hash"):
        raise ToolError("the approval answer belongs to another execution; call execute again")
    if result.status != "awaiting_approval":
        return result
    return _decide(executions, result, answer if isinstance(answer, ElicitResult) else None)


def register(server: MCPServer, service) -> None:
    executions = service.executions

    @server.tool(title="Run a runbook's steps",
                 annotations=ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=False,
                                             open_world_hint=True))
    async def execute(
        runbook_id: Annotated[str, Field(min_length=1, max_length=200, description="Runbook id from `search`.")],
        ctx: Context,
        context: Annotated[dict[str, Any] | None, Field(
            description="Placeholder values, e.g. {\"namespace\": \"production\", \"pod_name\": \"web-1\"}.")] = None,
        parameters: ExecuteParameters | None = None,
    ) -> ExecutionResult | InputRequiredResult:
        """Run a runbook's kubectl steps in the sandbox: reads run, changes are dry-run on the server
        (dryRun=All) with a diff and need a human's approval; exec, shells, Secrets and bulk changes
        are never run. Returns each step's classification, result, output and diff."""
        if ctx.request_state is not None:
            answer = (ctx.input_responses or {}).get(_APPROVAL_KEY)
            try:
                return await anyio.to_thread.run_sync(_resume, executions, runbook_id, ctx.request_state, answer)
            except RunbookError as exc:
                raise ToolError(str(exc)) from None

        def progress(done: float, total: float, message: str) -> None:
            anyio.from_thread.run(ctx.report_progress, done, total, message)

        try:
            result = await anyio.to_thread.run_sync(
                lambda: executions.execute(runbook_id, context, parameters, requester="mcp-client", progress=progress))
            if result.status != "awaiting_approval":
                return result
            return await _ask(ctx, executions, result)
        except RunbookError as exc:
            raise ToolError(str(exc)) from None

    @server.tool(title="Recent executions",
                 annotations=ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True,
                                             open_world_hint=False))
    def list_executions(
        limit: Annotated[int, Field(ge=1, le=500)] = 10,
        runbook_id: Annotated[str | None, Field(max_length=200)] = None,
        status: ExecutionStatus | None = None,
    ) -> ExecutionList:
        """Recent runbook executions, newest first, with their status and step counts."""
        try:
            return executions.list_executions(limit, runbook_id, status)
        except RunbookError as exc:
            raise ToolError(str(exc)) from None
