"""MCP tools `plan`, `execute`, `get_execution` and `list_executions`.

An MCP client can be the agent itself, so nothing said through MCP approves a change: a plan
that needs approval comes back `needs_approval` with how a person approves it (approver
credential, CLI or HTTP) and the console page where they do (`approval.url`). A client that
supports URL-mode elicitation (MCP 2025-11-25 and later) is asked to open that page for its user:
the person approves there, signed in, where the agent cannot answer for them; whatever the client
answers to the elicitation decides nothing. Only when the operator sets `trust_elicitation` (meant
for a local stdio client whose user is the approver) does `execute` ask for the decision itself
through MCP elicitation, and even then never over HTTP, where the client is a remote program.
"""

from __future__ import annotations

import getpass
import json
import logging
from typing import Any

import anyio
import anyio.from_thread
import anyio.to_thread
from mcp.server import MCPServer
from mcp.server.elicitation import render_elicitation_schema
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from mcp_types import ElicitRequest, ElicitRequestFormParams, ElicitRequestURLParams, ElicitResult, InputRequiredResult
from mcp_types.version import is_version_at_least
from pydantic import BaseModel, Field

from ...api.executions import ExecuteRequest, GetExecutionRequest, ListExecutionsRequest, PlanRequest
from ...errors import RunbookError
from ...executor.models import FAILING_OUTCOMES, ExecutionList, ExecutionResult, StepResult
from ...executor.service import ExecutionService
from ...executor.views import compact, compact_plan, one_step
from ...settings import Settings
from ..ui.links import execution_url
from .calls import READ_ONLY, answer
from .tools import request_tool

log = logging.getLogger(__name__)
REQUESTER = "mcp-client"
_APPROVAL_KEY = "approval"
_CONSOLE_KEY = "console"
_INPUT_REQUIRED_VERSION = "2026-07-28"
_URL_ELICITATION_VERSION = "2025-11-25"


class ApprovalForm(BaseModel):
    approve: bool = Field(description="Apply the listed changes to the cluster?")
    reason: str = Field("", max_length=500, description="Optional note for the audit log.")


def _json(data: dict, is_error: bool = False) -> CallToolResult:
    # No output schema is declared for these tools: the execution's full schema alone would
    # take most of the tools/list budget every client reads; the JSON text says it all.
    return CallToolResult(content=[TextContent(type="text", text=json.dumps(data, separators=(",", ":")))],
                          structured_content=data, is_error=is_error)


def _result(record: ExecutionResult, excerpt: int | None = None, judge: bool = True,
            link: str | None = None) -> CallToolResult:
    """The compact view; an execution with a failing outcome is a tool error (when `judge`).
    `link`: the console page where a person approves it, for a plan that waits for one."""
    data = compact(record) if excerpt is None else compact(record, excerpt)
    if link and record.status == "awaiting_approval" and isinstance(data.get("approval"), dict):
        data["approval"]["url"] = link
        data["approval"]["how"] = (f"A person with an approver credential approves or rejects it in the console at "
                                   f"{link} (signed in), or: " + data["approval"].get("how", ""))
    return _json(data, judge and record.outcome in FAILING_OUTCOMES)


def _console_link(settings: Settings, ctx: Context, record: ExecutionResult) -> str | None:
    """The console page of an execution waiting for approval: the console URL setting, else the
    address this HTTP request came to; none over stdio without the setting."""
    if record.status != "awaiting_approval":
        return None
    request = getattr(ctx.request_context, "request", None)
    base = getattr(request, "base_url", None)
    return execution_url(settings, record.execution_id, str(base) if base is not None else None)


def _supports_url_elicitation(ctx: Context) -> bool:
    caps = ctx.client_capabilities
    version = ctx.protocol_version
    return (caps is not None and caps.elicitation is not None and caps.elicitation.url is not None
            and version is not None and is_version_at_least(version, _URL_ELICITATION_VERSION))


async def _open_console(ctx: Context, record: ExecutionResult, link: str) -> InputRequiredResult | None:
    """Ask the client to open the console page for its user (URL-mode elicitation). The answer
    (accept, decline, cancel) is only whether the page was opened: it approves nothing."""
    if not _supports_url_elicitation(ctx):
        return None
    message = (f"Runbook {record.runbook_id} wants to change "
               f"{record.cluster.describe() if record.cluster else 'the cluster'}. A person with an approver "
               "credential reviews the plan and approves or rejects it in the FaultMaven console.")
    if is_version_at_least(ctx.protocol_version or "", _INPUT_REQUIRED_VERSION):
        request = ElicitRequest(params=ElicitRequestURLParams(message=message, url=link))
        state = json.dumps({"execution_id": record.execution_id, "plan_hash": record.plan_hash, "console": True})
        return InputRequiredResult(input_requests={_CONSOLE_KEY: request}, request_state=state)
    try:
        await ctx.elicit_url(message, link, f"approve-{record.execution_id}")
    except Exception as exc:  # the link is in the result either way; a client that cannot prompt just reads it
        log.info("URL elicitation for %s not shown: %s", record.execution_id, exc)
    return None


def _after_console(executions: ExecutionService, runbook_id: str, state: dict) -> ExecutionResult:
    """Second round (2026-07-28+) after the client opened the console page: the execution as it
    stands now (still waiting, or decided by the person in the meantime)."""
    try:
        record = executions.get(str(state["execution_id"]))
    except (KeyError, TypeError):
        raise ToolError("the console round carried unreadable state; call get_execution") from None
    if record.runbook_id != runbook_id or record.plan_hash != state.get("plan_hash"):
        raise ToolError("the console round belongs to another execution; call get_execution")
    return record


def _local(ctx: Context) -> bool:
    """True for stdio (and in-process) sessions; an HTTP session carries its HTTP request."""
    return getattr(ctx.request_context, "request", None) is None


def _question(record: ExecutionResult) -> str:
    approval = record.approval
    assert approval is not None, "only an execution that waits for approval is put to a person"
    lines = [f"Approve {len(approval.changes)} change(s) of runbook {record.runbook_id} on "
             f"{record.cluster.describe() if record.cluster else 'the cluster'} (expires {approval.expires_at})?"]
    for step in record.steps:
        if step.result == "pending_approval":
            lines.append(f"- step {step.step}: {step.command}\n  " + (step.diff or "")[:600].replace("\n", "\n  "))
    return "\n".join(lines)[:4000]


def _decide(executions: ExecutionService, record: ExecutionResult, answer: ElicitResult | None) -> ExecutionResult:
    """The local user's answer (trusted elicitation). Dismissing it decides nothing."""
    if answer is None or answer.action == "cancel":
        executions.audit.record("approval.elicitation", execution_id=record.execution_id, outcome="cancel")
        return record
    form = None
    if answer.action == "accept":
        try:
            form = ApprovalForm.model_validate(answer.content or {})
        except ValueError:
            return record
    approve = form is not None and form.approve
    reason = (form.reason if form else "declined in the MCP client") or None
    return executions.approve(record.execution_id, f"local-user:{getpass.getuser()}",
                              "approve" if approve else "reject", reason, "mcp-elicitation")


async def _ask_person(ctx: Context, executions: ExecutionService, record: ExecutionResult
                      ) -> ExecutionResult | InputRequiredResult:
    """Trusted elicitation: push a prompt (older protocol revisions) or ask the client for an
    input round (2026-07-28+). A client that cannot prompt leaves the approval open."""
    caps = ctx.client_capabilities
    if caps is None or caps.elicitation is None:
        return record
    if ctx.protocol_version and is_version_at_least(ctx.protocol_version, _INPUT_REQUIRED_VERSION):
        request = ElicitRequest(params=ElicitRequestFormParams(
            message=_question(record), requested_schema=render_elicitation_schema(ApprovalForm)))
        state = json.dumps({"execution_id": record.execution_id, "plan_hash": record.plan_hash})
        return InputRequiredResult(input_requests={_APPROVAL_KEY: request}, request_state=state)
    answer = await ctx.elicit(_question(record), ApprovalForm)
    wire = ElicitResult(action=answer.action, content=answer.data.model_dump() if answer.action == "accept" else None)
    return await anyio.to_thread.run_sync(_decide, executions, record, wire)


def _resume(executions: ExecutionService, runbook_id: str, state: str, answer: Any) -> ExecutionResult:
    """Second round (2026-07-28+): the local user answered the approval prompt."""
    try:
        data = json.loads(state)
        record = executions.get(str(data["execution_id"]))
    except (ValueError, KeyError, TypeError):
        raise ToolError("the approval round carried unreadable state; call execute again") from None
    if record.runbook_id != runbook_id or record.plan_hash != data.get("plan_hash"):
        raise ToolError("the approval answer belongs to another execution; call execute again")
    if record.status != "awaiting_approval":
        return record
    return _decide(executions, record, answer if isinstance(answer, ElicitResult) else None)


def _state(raw: str) -> dict:
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def register(server: MCPServer, service) -> None:
    executions: ExecutionService = service.executions
    trust_elicitation = bool(getattr(service.settings, "trust_elicitation", False))

    @request_tool(server, PlanRequest, title="Preview an execution", annotations=READ_ONLY, description=(
        "What `execute` would run, running nothing: each step's role, risk and approval need; the options "
        "and rollbacks to name next."))
    async def plan(ctx: Context, request: PlanRequest) -> CallToolResult:
        def work() -> CallToolResult:
            preview = service.plan(request)
            return _json(compact_plan(preview), preview.outcome == "all_refused")

        return await answer(ctx, "plan", work)

    @request_tool(server, ExecuteRequest, title="Run runbook steps in the sandbox", omit=("requester",),
                  fixed={"requester": REQUESTER}, description=(
        "Run a runbook's kubectl steps in a sandbox; get findings. By default only diagnosis and verification "
        "reads run; a change named from `plan` is dry-run, or with dry_run=false awaits a person's approval."),
        annotations=ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=False,
                                    open_world_hint=True))
    async def execute(ctx: Context, request: ExecuteRequest) -> CallToolResult | InputRequiredResult:
        trusted = trust_elicitation and _local(ctx)
        if ctx.request_state is not None:
            state = _state(ctx.request_state)
            if state.get("console"):
                try:
                    record = await anyio.to_thread.run_sync(_after_console, executions, request.runbook_id, state)
                except RunbookError as exc:
                    raise ToolError(str(exc)) from None
                return _result(record, link=_console_link(service.settings, ctx, record))
            if not trusted:
                raise ToolError("this server does not take approvals through MCP; a person approves with "
                                "`faultmaven-runbooks approve` or the HTTP API")
            answer = (ctx.input_responses or {}).get(_APPROVAL_KEY)
            try:
                record = await anyio.to_thread.run_sync(_resume, executions, request.runbook_id, ctx.request_state,
                                                        answer)
            except RunbookError as exc:
                raise ToolError(str(exc)) from None
            return _result(record)

        def progress(done: float, total: float, message: str) -> None:
            anyio.from_thread.run(ctx.report_progress, done, total, message)

        link = None
        try:
            record = await anyio.to_thread.run_sync(lambda: service.execute(request, progress=progress))
            if record.outcome == "needs_approval" and trusted:
                asked = await _ask_person(ctx, executions, record)
                if isinstance(asked, InputRequiredResult):
                    return asked
                record = asked
            link = _console_link(service.settings, ctx, record)
            if link and not trusted:
                opened = await _open_console(ctx, record, link)
                if opened is not None:
                    return opened
        except RunbookError as exc:
            raise ToolError(str(exc)) from None
        return _result(record, link=link)

    @request_tool(server, GetExecutionRequest, title="Show one execution", annotations=READ_ONLY)
    async def get_execution(ctx: Context, request: GetExecutionRequest) -> CallToolResult:
        """One execution: status, what was applied by whom, findings; with `step`, its full output."""
        def work() -> CallToolResult:
            record = service.get_execution(request.execution_id)
            if request.step is None:  # showing a failed execution is not a failed call
                return _result(record, judge=False, link=_console_link(service.settings, ctx, record))
            found: StepResult | None = one_step(record, request.step)
            if found is None:
                raise ToolError(f"execution {request.execution_id} ran no step {request.step}; "
                                f"steps: {[s.step for s in record.steps]}")
            only = record.model_copy(update={"steps": [found], "findings": [], "recommendations": [], "options": [],
                                             "rollbacks": [], "context": {}, "derived": {}})
            return _result(only, excerpt=executions.policy.output_max_chars, judge=False)

        return await answer(ctx, "get_execution", work)

    @request_tool(server, ListExecutionsRequest, title="List executions", annotations=READ_ONLY)
    async def list_executions(ctx: Context, request: ListExecutionsRequest) -> CallToolResult:
        """Executions, newest first, a page at a time."""
        def work() -> CallToolResult:
            listing: ExecutionList = service.list_executions(request)
            return _json(listing.model_dump(mode="json", exclude_none=True, exclude_defaults=True))

        return await answer(ctx, "list_executions", work)
