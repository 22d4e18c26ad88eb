"""What a model reads of an execution: the record without bookkeeping, outputs cut to excerpts.

The stored record keeps every step's output (up to the policy's output_max_chars); the view
an agent gets from `execute` and `get_execution` keeps the findings whole and shows each
output as an excerpt that says how to read the rest, so one call stays a few thousand characters.
"""

from __future__ import annotations

from .models import ExecutionResult, PlanPreview, StepResult

EXCERPT_CHARS = 360
DIFF_CHARS = 1500
_INTERNAL = {"owner", "version", "policy"}


def _cut(text: str, limit: int, execution_id: str, step: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit].rstrip() + f"\n…[{len(text) - limit} more chars: get_execution('{execution_id}', step={step})]"


def compact(record: ExecutionResult, excerpt: int = EXCERPT_CHARS) -> dict:
    """The record as a model should read it: nothing empty, nothing internal, outputs excerpted."""
    data = record.model_dump(mode="json", exclude_none=True, exclude_defaults=True, exclude=_INTERNAL)
    for key in ("execution_id", "runbook_id", "status", "outcome", "mode", "dry_run"):
        data.setdefault(key, getattr(record, key))  # identifying fields stay even at their defaults
    for step in data.get("steps", []):
        if step.get("classification") != "change":
            step.pop("operation", None)  # a read's operation repeats its command
            step.pop("dry_run", None)
        if step.get("output"):
            step["output"] = _cut(step["output"], excerpt, record.execution_id, step["step"])
        if step.get("diff"):
            step["diff"] = _cut(step["diff"], DIFF_CHARS, record.execution_id, step["step"])
        step.setdefault("result", "planned")
    return data


def one_step(record: ExecutionResult, number: int) -> StepResult | None:
    return next((s for s in record.steps if s.step == number), None)


def compact_plan(preview: PlanPreview) -> dict:
    data = preview.model_dump(mode="json", exclude_none=True, exclude_defaults=True, exclude={"policy"})
    for key in ("runbook_id", "outcome", "mode"):
        data.setdefault(key, getattr(preview, key))
    for step in data.get("steps", []):
        step.pop("dry_run", None)
        step.setdefault("result", "planned")
    return data
