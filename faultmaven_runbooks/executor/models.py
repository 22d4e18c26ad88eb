"""Pydantic types of the executor; they are also the `execute` / `plan` / `get_execution` schemas.

Every field that can be empty defaults to None or an empty list, so a result dumped with
`exclude_none` / `exclude_defaults` carries only what says something (results are read by models).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, ValidationInfo, field_validator

Classification = Literal["read", "change", "setup", "manual", "refused"]  # setup: binds a variable, calls nothing
Role = Literal["diagnose", "mitigate", "verify", "rollback"]
StepOutcome = Literal[
    "success",  # a read ran, or a change was applied
    "dry_run",  # a change passed the server-side dry run (dryRun=All) and was not applied
    "planned",  # a preview or manual mode: nothing ran
    "failed",  # the API answered with an error, or a pre-check failed
    "manual",  # not runnable as a typed operation: a human runs it
    "refused",  # forbidden by the sandbox or the policy
    "skipped",  # not run: a context value is missing, or a step it depends on failed
    "pending_approval",  # a change that waits for a person's approval
    "rejected",  # the approver said no
    "applying",  # the change was being sent when the record was last written
    "interrupted",  # the server stopped while the change was being sent: check the cluster
]
ExecutionStatus = Literal[
    "planned", "completed", "dry_run_completed", "awaiting_approval", "applying", "rejected", "expired",
    "failed", "interrupted",
]
Outcome = Literal[
    "ok", "planned", "needs_approval", "all_refused", "no_cluster", "failed", "rejected", "expired",
    "applying", "interrupted",
]
FAILING_OUTCOMES = frozenset({"all_refused", "no_cluster", "failed", "interrupted"})
Mode = Literal["manual", "semi-automated", "fully-automated"]
Risk = Literal["low", "high"]


def _drop_titles(schema: dict) -> None:
    # Field titles repeat the names; every tools/list carries this schema, so it stays lean.
    for prop in schema.get("properties", {}).values():
        prop.pop("title", None)


class ExecuteParameters(BaseModel):
    # Name nothing to run the diagnosis and verification reads; a change runs only when named. (A
    # comment, not a docstring: a docstring would repeat the tool's description in every tools/list.)

    model_config = ConfigDict(extra="forbid", json_schema_extra=_drop_titles)

    dry_run: StrictBool = Field(True, description="Named changes are only dry-run (dryRun=All).")
    auto_execute: StrictBool = Field(False, description="Fully-automated mode, if the policy allows it.")
    mode: Mode | None = Field(None, description="A stricter mode, e.g. manual (plan only).")
    # null is read as "not given" (older clients send it), and the schema says so.
    steps: list[StrictInt] = Field(default_factory=list, max_length=100, description="These step numbers.",
                             json_schema_extra={"type": ["array", "null"]})
    section: str = Field("", max_length=200, description="Every step of this section, e.g. Immediate Fix.",
                         json_schema_extra={"type": ["string", "null"]})
    option: str = Field("", max_length=10, description="One alternative fix by its id from plan, e.g. B.",
                        json_schema_extra={"type": ["string", "null"]})

    @field_validator("steps", "section", "option", mode="before")
    @classmethod
    def _none_is_nothing(cls, value, info: ValidationInfo):
        if value is None:  # older clients send null for "not given"
            return [] if info.field_name == "steps" else ""
        return value

    def names_anything(self) -> bool:
        return bool(self.steps or self.section.strip() or self.option.strip())

    def selection(self) -> dict:
        return self.model_dump(include={"steps", "section", "option"}, exclude_defaults=True)


class ClusterIdentity(BaseModel):
    """Which cluster a plan was made for: approvals apply only through this same connection."""

    server: str
    ca_sha256: str | None = None
    context: str | None = None

    def describe(self) -> str:
        ca = f", CA sha256:{self.ca_sha256[:12]}" if self.ca_sha256 else ", no CA"
        return f"{self.server} (context {self.context or '-'}{ca})"


class StepResult(BaseModel):
    step: int
    command: str = Field(description="The command with context values filled in; missing ones stay {name}.")
    role: Role
    section: str = ""
    option: str | None = Field(None, description="The alternative this change belongs to.")
    classification: Classification
    risk: Risk | None = None
    operation: str | None = Field(None, description="The typed operation, e.g. 'get pods/web-1 in production'.")
    binds: str | None = Field(None, description="Variables this set-up step gives the later steps, e.g. "
                                                "'CDI_NAMESPACE -> cdi_namespace (read from the cluster)'.")
    result: StepOutcome
    reason: str | None = None
    output: str = ""
    dry_run: bool = True
    diff: str | None = None


class Finding(BaseModel):
    id: str = Field(description="F1, F2, ...: recommendations cite these.")
    step: int | None = None
    kind: str
    text: str


class Option(BaseModel):
    """An alternative fix: its changes are planned together, never with another option's."""

    id: str
    label: str
    section: str
    steps: list[int]


class Rollback(BaseModel):
    step: int
    command: str
    rollback_of: list[int] = Field(description="The change steps this undoes; never planned with them.")


class Approval(BaseModel):
    execution_id: str
    plan_hash: str
    requested_by: str
    requested_at: str
    expires_at: str
    changes: list[int] = Field(description="Step numbers that would be applied.")
    status: Literal["pending", "approved", "rejected", "expired"] = "pending"
    approver: str | None = None
    via: str | None = Field(None, description="cli, http or mcp-elicitation.")
    decided_at: str | None = None
    reason: str | None = None
    how: str = Field("", description="How a person approves it.")


class ExecutionHead(BaseModel):
    """What identifies an execution: shared by the full record and the listing row."""

    execution_id: str
    runbook_id: str
    status: ExecutionStatus
    outcome: Outcome
    mode: Mode
    dry_run: bool
    requester: str
    created: str
    updated: str
    namespace: str | None = None
    cluster: ClusterIdentity | None = None


class ExecutionResult(ExecutionHead):
    message: str | None = Field(None, description="The one reason behind the outcome, said once.")
    plan_hash: str
    steps: list[StepResult]
    findings: list[Finding] = Field(default_factory=list)
    recommendations: list[str] = Field(default_factory=list)
    options: list[Option] = Field(default_factory=list, description="Alternative fixes not planned this time.")
    rollbacks: list[Rollback] = Field(default_factory=list)
    approval: Approval | None = None
    policy: str = ""
    context: dict = Field(default_factory=dict, description="Context values used, given and derived.")
    derived: dict[str, str] = Field(default_factory=dict, description="Values read from the cluster, and from where.")
    selection: dict = Field(default_factory=dict, description="What the caller named: steps, section, option.")
    owner: dict | None = Field(None, description="Process applying the changes (host, pid, start); for recovery.")
    version: int = Field(0, description="Bumped by every status transition (compare-and-set).")


class PlanPreview(BaseModel):
    """What `execute` would run, classified and checked against the policy; nothing ran."""

    runbook_id: str
    outcome: Literal["planned", "all_refused"] = "planned"
    message: str | None = None
    mode: Mode
    cluster: ClusterIdentity | None = None
    plan_hash: str
    steps: list[StepResult]
    options: list[Option] = Field(default_factory=list)
    rollbacks: list[Rollback] = Field(default_factory=list)
    approvals_needed: list[int] = Field(default_factory=list,
                                        description="Changes that would need a person's approval.")
    policy: str = ""


class ExecutionSummary(ExecutionHead):
    steps: int
    summary: dict[str, int] = Field(default_factory=dict, description="Step counts by result.")


class ExecutionList(BaseModel):
    executions: list[ExecutionSummary]
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next page; none when this is the last.")
