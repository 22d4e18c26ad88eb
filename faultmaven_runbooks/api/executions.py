"""Running runbook steps: plan, execute, read and list executions, and a person's decision."""

from __future__ import annotations

from typing import Any

from pydantic import Field, StrictInt, model_validator

from ..executor.models import ExecuteParameters, ExecutionStatus
from .base import Request

RUNBOOK_ID = Field(min_length=1, max_length=200, description="Runbook id from `search`.")
CONTEXT = Field(None, description="Placeholder values, e.g. {\"namespace\": \"prod\", \"pod_name\": \"web-1\"}; "
                "missing workloads are read from the cluster.")


class PlanRequest(Request):
    runbook_id: str = RUNBOOK_ID
    context: dict[str, Any] | None = CONTEXT
    steps: list[StrictInt] | None = Field(None, max_length=100, description="These step numbers.")
    section: str | None = Field(None, max_length=200, description="This section's steps.")
    option: str | None = Field(None, max_length=10, description="This option's steps, e.g. B.")

    @model_validator(mode="before")
    @classmethod
    def _selection_in_parameters(cls, data: Any) -> Any:
        # The REST API's first shape carried the selection in `parameters`, like execute does.
        if isinstance(data, dict) and isinstance(data.get("parameters"), dict):
            data = dict(data)
            given = data.pop("parameters")
            for key in ("steps", "section", "option"):
                data.setdefault(key, given.get(key))
        return data

    def parameters(self) -> ExecuteParameters:
        return ExecuteParameters(steps=self.steps, section=self.section, option=self.option)


class ExecuteRequest(Request):
    runbook_id: str = RUNBOOK_ID
    context: dict[str, Any] | None = CONTEXT
    parameters: ExecuteParameters | None = None
    requester: str = Field("http-api", min_length=1, max_length=200,
                           description="Who asked (recorded in the audit log).")


class GetExecutionRequest(Request):
    execution_id: str = Field(min_length=1, max_length=40, description="exec-... id.")
    step: int | None = Field(None, ge=1, description="Show this step in full.")


class ListExecutionsRequest(Request):
    limit: int = Field(5, ge=1, le=100)
    runbook_id: str | None = Field(None, max_length=200)
    status: ExecutionStatus | None = None
    cursor: str | None = Field(None, max_length=200, description="next_cursor of the previous page.")


class Decision(Request):
    """A person's decision on a plan waiting for approval; who decides comes from their credential."""

    approver: str | None = Field(None, max_length=200, description="Optional: must match the credential's name.")
    reason: str | None = Field(None, max_length=2000, description="Note for the audit log.")
