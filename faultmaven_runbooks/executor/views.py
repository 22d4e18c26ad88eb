"""What a model reads of an execution: the record without bookkeeping, outputs cut to excerpts.

The stored record keeps every step's output (up to the policy's output_max_chars); the view
an agent gets from `execute` and `get_execution` keeps the findings whole and shows each
output as an excerpt that says how to read the rest, so one call stays a few thousand characters.
"""

from __future__ import annotations

import json

from .models import ExecutionResult, PlanPreview, StepResult

EXCERPTS = (360, 160, 60, 0)  # tried in turn until the view fits the budget
BUDGET = 7500
DIFF_CHARS = 1500
_INTERNAL = {"owner", "version", "policy"}


def _cut(text: str, limit: int, execution_id: str, step: int) -> str:
    if len(text) <= limit:
        return text
    more = f"[{len(text) - limit} more chars: get_execution('{execution_id}', step={step})]"
    return text[:limit].rstrip() + "\n…" + more if limit else more


def compact(record: ExecutionResult, excerpt: int | None = None) -> dict:
    """The record as a model should read it: nothing empty, nothing internal, each reason and
    section said once, outputs excerpted (shorter for long runbooks, so it stays under BUDGET)."""
    sizes = (excerpt,) if excerpt is not None else EXCERPTS
    for size in sizes:
        data = _compact(record, size)
        if len(json.dumps(data, separators=(",", ":"))) <= BUDGET:
            break
    return data


def _compact(record: ExecutionResult, excerpt: int) -> dict:
    data = record.model_dump(mode="json", exclude_none=True, exclude_defaults=True, exclude=_INTERNAL)
    for key in ("execution_id", "runbook_id", "status", "outcome", "mode", "dry_run"):
        data.setdefault(key, getattr(record, key))  # identifying fields stay even at their defaults
    said: dict[str, int] = {}
    section = None
    for step in data.get("steps", []):
        step.setdefault("result", "planned")
        if step.get("classification") != "change":
            step.pop("operation", None)  # a read's operation repeats its command
            step.pop("dry_run", None)
        if step.get("section") == section:
            step.pop("section")  # the same as the step before
        else:
            section = step.get("section")
        reason = step.get("reason")
        if reason and len(reason) > 40:
            if reason in said:
                step["reason"] = f"as step {said[reason]}"
            else:
                said[reason] = step["step"]
        if step.get("output"):
            step["output"] = _cut(step["output"], excerpt, record.execution_id, step["step"])
        if step.get("diff"):
            step["diff"] = _cut(step["diff"], DIFF_CHARS, record.execution_id, step["step"])
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
