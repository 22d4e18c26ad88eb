"""A runbook + context -> the plan: steps with their role and alternative, selected, hashed.

The default plan is the diagnosis and verification reads. A change is planned only when the
caller names it (a step, a section or an option the plan listed); alternatives are never
planned together, and a rollback is offered as the rollback of its change, never with it.

The hash covers the runbook, every planned step's typed operation and the cluster identity,
so an approval given for one plan can never apply another (edited runbook, other context,
another cluster).
"""

from __future__ import annotations

import hashlib
import json
import string
from dataclasses import dataclass, field

from ..errors import InvalidInput
from ..models import Runbook
from .commands import ParsedStep, parse_step
from .models import Classification, ClusterIdentity, ExecuteParameters, Option, Rollback
from .operation import Operation, Refused
from .placeholders import flatten_context
from .policy import Policy
from .structure import Shape, align

MAX_CONTEXT_KEYS = 50


@dataclass
class PlannedStep:
    number: int
    description: str
    shape: Shape
    parsed: ParsedStep
    role: str
    option: str | None = None

    @property
    def classification(self) -> Classification:
        return self.parsed.classification

    @property
    def operation(self) -> Operation:
        """The typed operation of a read or a change step (set-up, manual and refused steps may
        have none: asking one of them for it is a bug in the caller)."""
        if self.parsed.operation is None:
            raise RuntimeError(f"step {self.number} ({self.classification}) has no operation to run")
        return self.parsed.operation

    @property
    def is_change(self) -> bool:
        return self.parsed.operation is not None and self.parsed.operation.change


@dataclass
class Plan:
    runbook_id: str
    steps: list[PlannedStep]  # what runs, in order
    every: dict[int, PlannedStep]  # every real step (mentions left out)
    options: list[Option] = field(default_factory=list)
    rollbacks: list[Rollback] = field(default_factory=list)
    flat: dict = field(default_factory=dict)
    bound_by: dict[str, int] = field(default_factory=dict)  # context key -> the set-up step that binds it

    def offered(self) -> tuple[list[Option], list[Rollback]]:
        """Options and rollbacks this plan does not run (what the caller may name next)."""
        chosen = {p.number for p in self.steps if p.is_change}
        return ([o for o in self.options if not chosen & set(o.steps)],
                [r for r in self.rollbacks if r.step not in chosen])


def _role(phase: str, parsed: ParsedStep) -> str:
    op = parsed.operation
    if op is not None and op.change:
        return "rollback" if phase == "rollback" else "mitigate"
    if op is not None or parsed.classification == "setup":
        # a read, or a set-up line binding a variable: never an alternative fix of its own
        return "verify" if phase in ("verify", "mitigate", "rollback") else "diagnose"
    return phase or "diagnose"  # manual or refused before parsing: the headings decide


def _option_ids():
    for first in ("", *string.ascii_uppercase):
        for second in string.ascii_uppercase:
            yield first + second


def analyse(runbook: Runbook, context: dict | None, policy: Policy) -> Plan:
    """Every step parsed, checked against the policy, given a role, options and rollbacks found."""
    if context is not None and not isinstance(context, dict):
        raise InvalidInput("context must be an object of placeholder values, e.g. {\"namespace\": \"production\"}")
    if context and len(context) > MAX_CONTEXT_KEYS:
        raise InvalidInput(f"context has {len(context)} keys; the limit is {MAX_CONTEXT_KEYS}")
    flat = flatten_context(context)
    shapes = align(runbook)
    every: dict[int, PlannedStep] = {}
    running = dict(flat)  # what a shell would have set when each step runs
    bound_by: dict[str, int] = {}
    for step in runbook.steps:
        shape = shapes[step.number]
        if shape.mention:
            continue
        parsed = parse_step(step.command, running, step=step.number)
        if parsed.operation is not None:
            try:
                policy.check(parsed.operation)
                for binding in parsed.binds:
                    if binding.read is not None:  # an inline read answers to the policy like a step
                        _check_inline(policy, binding.read, binding.var)
            except Refused as exc:
                parsed = ParsedStep(parsed.command, "refused", parsed.operation, str(exc), parsed.missing, parsed.binds)
        for binding in parsed.binds:
            bound_by.setdefault(binding.key, step.number)
            if binding.source == "value" and flat.get(binding.key) in (None, ""):
                running[binding.key] = binding.value  # the caller's own value wins over the runbook's
        every[step.number] = PlannedStep(step.number, step.description, shape, parsed, _role(shape.phase, parsed))
    plan = Plan(runbook.id, [], every, flat=flat, bound_by=bound_by)
    _find_options(plan)
    _find_rollbacks(plan)
    return plan


def _check_inline(policy: Policy, read: Operation, shown: str) -> None:
    try:
        policy.check(read)
    except Refused as exc:
        raise Refused(f"the read inside an argument ({shown}) is refused: {exc}") from None


def _find_options(plan: Plan) -> None:
    ids = _option_ids()
    units: dict[int, list[PlannedStep]] = {}
    for p in plan.every.values():
        units.setdefault(p.shape.unit, []).append(p)
    for members in units.values():
        # a block that fixes something is an alternative, whether its steps run here or a human's do
        if not any(p.role == "mitigate" for p in members):
            continue
        oid = next(ids)
        for p in members:
            p.option = oid
        plan.options.append(Option(id=oid, label=members[0].shape.label, section=members[0].shape.section,
                                   steps=[p.number for p in members]))


def _target(p: PlannedStep) -> tuple[str, str | None]:
    return p.operation.kind, p.operation.name


def _find_rollbacks(plan: Plan) -> None:
    changes = [p for p in plan.every.values() if p.is_change and p.role == "mitigate"]
    for p in plan.every.values():
        if p.role != "rollback" or not p.is_change:
            continue
        same = [c.number for c in changes if _target(c) == _target(p)]
        plan.rollbacks.append(Rollback(step=p.number, command=p.parsed.command,
                                       rollback_of=same or [c.number for c in changes]))


def select(plan: Plan, params: ExecuteParameters, runbook: Runbook) -> Plan:
    """The steps to run: the default reads, or exactly what the caller named."""
    if not params.names_anything():
        seen: set[str] = set()
        for p in plan.every.values():
            if p.role in ("diagnose", "verify") and p.parsed.command not in seen:
                seen.add(p.parsed.command)  # the same read twice (diagnosis, verification) runs once
                plan.steps.append(p)
        return plan
    numbers: set[int] = set()
    if params.steps:
        numbers |= _named_steps(plan, params.steps, runbook)
    if params.section.strip():
        numbers |= _named_section(plan, params.section)
    if params.option.strip():
        match = next((o for o in plan.options if o.id.casefold() == params.option.strip().casefold()), None)
        if match is None:
            known = ", ".join(f"{o.id} ({o.label[:40]})" for o in plan.options) or "none"
            raise InvalidInput(f"runbook {plan.runbook_id!r} has no option {params.option!r}; options: {known}")
        numbers |= set(match.steps)
    plan.steps = [plan.every[n] for n in sorted(numbers)]
    _check_together(plan)
    return plan


def _named_steps(plan: Plan, wanted: list[int], runbook: Runbook) -> set[int]:
    known = {s.number for s in runbook.steps}
    unknown = sorted(set(wanted) - known)
    if unknown:
        raise InvalidInput(f"runbook {plan.runbook_id!r} has no step(s) {unknown}; "
                           f"it has steps 1..{len(runbook.steps)}")
    mentions = sorted(set(wanted) - set(plan.every))
    if mentions:
        raise InvalidInput(f"step(s) {mentions} are commands mentioned inside a sentence, not steps to run")
    return set(wanted)


def _named_section(plan: Plan, wanted: str) -> set[int]:
    key = wanted.strip().casefold()
    found = {n for n, p in plan.every.items()
             if key in (h.strip().casefold() for h in p.shape.section.split(" > "))
             or p.shape.section.casefold() == key}
    if not found:
        sections = sorted({p.shape.section.split(" > ")[-1] for p in plan.every.values()})
        raise InvalidInput(f"runbook {plan.runbook_id!r} has no section {wanted!r} with steps; sections: "
                           + ", ".join(sections)[:400])
    options = sorted({p.option for p in (plan.every[n] for n in found) if p.option and p.is_change})
    if len(options) > 1:
        labels = "; ".join(f"{o.id}: {o.label[:60]}" for o in plan.options if o.id in options)
        raise InvalidInput(f"section {wanted!r} holds alternatives ({labels}); name one with option")
    return found


def _check_together(plan: Plan) -> None:
    chosen = {p.number for p in plan.steps}
    options: dict[str, int] = {}  # option id -> its first chosen change
    for p in plan.steps:
        if p.is_change and p.option:
            options.setdefault(p.option, p.number)
    if len(options) > 1:
        detail = ", ".join(f"step {n} is option {o}" for o, n in options.items())
        raise InvalidInput(f"those steps are alternatives ({detail}); alternatives are never planned together: "
                           "name one option per execution")
    for rb in plan.rollbacks:
        undone = sorted(chosen & set(rb.rollback_of))
        if rb.step in chosen and undone:
            raise InvalidInput(f"step {rb.step} rolls back step(s) {undone}; a rollback is never planned with the "
                               "change it undoes: run the change, and the rollback later only if needed")


def plan_hash(runbook_id: str, steps: list[PlannedStep], cluster: ClusterIdentity | None) -> str:
    canon = [[p.number, p.classification,
              p.parsed.operation.as_dict() if p.parsed.operation and not p.parsed.missing else p.parsed.command,
              # an inline read and the value it bound (also in the operation once bound)
              *[[b.key, b.value, b.read.as_dict()] for b in p.parsed.binds if b.read]]
             for p in steps]
    where = cluster.model_dump() if cluster else None
    blob = json.dumps([runbook_id, where, canon], sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(blob.encode("utf-8")).hexdigest()
