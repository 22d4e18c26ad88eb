"""Pydantic types of the executor; they are also the `execute` / `list_executions` tool schemas."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Classification = Literal["read", "change", "manual", "refused"]
StepOutcome = Literal[
    "success",  # a read ran, or a change was applied
    "dry_run",  # a change passed the server-side dry run (dryRun=All) and was not applied
    "planned",  # manual mode: nothing ran
    "failed",  # the API answered with an error, or a pre-check failed
    "manual",  # not runnable as a typed operation: a human runs it
    "refused",  # forbidden by the sandbox or the policy
    "skipped",  # not run: a context value is missing, or an earlier step failed
    "pending_approval",  # a change that waits for an approval
    "rejected",  # the approver said no
]
ExecutionStatus = Literal[
    "planned", "completed", "dry_run_completed", "awaiting_approval", "rejected", "expired", "failed",
]
Mode = Literal["manual", "semi-automated", "fully-automated"]


class ExecuteParameters(BaseModel):
    """How to run: the spec's `parameters` object."""

    dry_run: bool = Field(True, description="Default true: changes are only dry-run on the server.")
    auto_execute: bool = Field(
        False, description="Ask for fully-automated mode; honoured only when the policy allows it."
    )
    mode: Mode | None = Field(None, description="A stricter mode than the policy's, e.g. 'manual' (plan only).")
    steps: list[int] | None = Field(
        None, description="Run only these step numbers (the runbook's step numbers); default all."
    )


class StepResult(BaseModel):
    step: int
    description: str
    command: str = Field(description="The command with context values filled in.")
    classification: Classification
    risk: Literal["low", "high"] | None = Field(None, description="For changes: policy risk.")
    operation: str | None = Field(None, description="The typed operation, e.g. 'get pods/web-1 in production'.")
    result: StepOutcome
    reason: str | None = Field(None, description="Why a step was refused, manual, skipped or failed.")
    output: str = ""
    dry_run: bool = True
    diff: str | None = Field(None, description="Unified diff of the change as the server would apply it.")
    decision: Literal["continue", "stop", "recommend"] = "continue"


class Approval(BaseModel):
    execution_id: str
    plan_hash: str
    requested_by: str
    requested_at: str
    expires_at: str
    changes: list[int] = Field(description="Step numbers that would be applied.")
    status: Literal["pending", "approved", "rejected", "expired"] = "pending"
    approver: str | None = None
    decided_at: str | None = None
    reason: str | None = None
    how: str = Field(
        "", description="How a human approves: CLI, HTTP API or the MCP client's approval prompt."
    )


class ExecutionHead(BaseModel):
    """What identifies an execution: shared by the full record and the listing row."""

    execution_id: str
    runbook_id: str
    status: ExecutionStatus
    mode: Mode
    dry_run: bool
    requester: str
    created: str
    updated: str
    namespace: str | None = None


class ExecutionResult(ExecutionHead):
    plan_hash: str
    steps: list[StepResult]
    recommendations: list[str] = Field(default_factory=list)
    approval: Approval | None = None
    policy: str = Field("", description="Which policy was in force (file path or 'built-in defaults').")
    summary: dict[str, int] = Field(default_factory=dict, description="Step counts by result.")
    context: dict = Field(default_factory=dict, description="The context the plan was built with.")
    selected_steps: list[int] | None = None


class ExecutionSummary(ExecutionHead):
    steps: int
    summary: dict[str, int] = Field(default_factory=dict)


class ExecutionList(BaseModel):
    executions: list[ExecutionSummary]
    total: int
