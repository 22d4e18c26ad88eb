"""A runbook + context -> the plan: every step parsed, checked against the policy, hashed.

The hash covers the runbook id and every step's classification and typed operation, so an
approval given for one plan can never apply another (edited runbook, other context).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from ..errors import InvalidInput
from ..models import Runbook
from .commands import ParsedStep, parse_step
from .operation import Refused
from .placeholders import flatten_context
from .policy import Policy

MAX_CONTEXT_KEYS = 50


@dataclass
class PlannedStep:
    number: int
    description: str
    parsed: ParsedStep

    @property
    def classification(self) -> str:
        return self.parsed.classification


def build_plan(runbook: Runbook, context: dict | None, policy: Policy, selected: list[int] | None = None
               ) -> tuple[list[PlannedStep], dict]:
    if context is not None and not isinstance(context, dict):
        raise InvalidInput("context must be an object of placeholder values, e.g. {\"namespace\": \"production\"}")
    if context and len(context) > MAX_CONTEXT_KEYS:
        raise InvalidInput(f"context has {len(context)} keys; the limit is {MAX_CONTEXT_KEYS}")
    flat = flatten_context(context)
    numbers = {s.number for s in runbook.steps}
    if selected:
        unknown = sorted(set(selected) - numbers)
        if unknown:
            raise InvalidInput(f"runbook {runbook.id!r} has no step(s) {unknown}; it has steps 1..{len(runbook.steps)}")
    plan = []
    for step in runbook.steps:
        if selected and step.number not in selected:
            continue
        parsed = parse_step(step.command, flat)
        if parsed.operation is not None:
            try:
                policy.check(parsed.operation)
            except Refused as exc:
                parsed = ParsedStep(parsed.command, "refused", parsed.operation, str(exc), parsed.missing)
        plan.append(PlannedStep(step.number, step.description, parsed))
    return plan, flat


def plan_hash(runbook_id: str, plan: list[PlannedStep]) -> str:
    canon = [
        [p.number, p.classification, p.parsed.operation.as_dict() if p.parsed.operation else p.parsed.command]
        for p in plan
    ]
    blob = json.dumps([runbook_id, canon], sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(blob.encode("utf-8")).hexdigest()
