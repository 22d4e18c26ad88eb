"""Running the planned steps: pre-check, execution, result analysis and a decision per step.

Reads run; changes are dry-run on the server (dryRun=All). A step whose pre-check fails stops
the steps that depend on it (later steps on the same object, and every later change), with
the reason said once. When the cluster cannot be reached, no further step calls it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from .apiresult import KubeError, Outcome
from .findings import Analysis
from .kube import KubeGateway
from .models import ExecutionResult, StepResult
from .operation import Refused
from .planner import PlannedStep
from .policy import Policy
from .redact import redact_text, trim

Progress = Callable[[float, float, str], None]


@dataclass
class RunState:
    gateway: KubeGateway | None
    no_cluster: str | None = None  # why the cluster cannot be used: said once, in the message
    failed: int | None = None  # the first failed step
    failed_targets: dict[tuple, int] = field(default_factory=dict)
    analysis: Analysis = field(default_factory=Analysis)
    problems: list[str] = field(default_factory=list)  # context that could not be derived
    prefetched: dict[int, Outcome] = field(default_factory=dict)  # set-up reads already run to bind a value
    unbound: dict[str, str] = field(default_factory=dict)  # a step's inline binding -> why it did not bind


def _target(p: PlannedStep) -> tuple:
    op = p.parsed.operation
    return (op.kind, op.name, op.namespace) if op is not None and op.name else ()


_HOW = {"read": "read from the cluster", "value": "set by the runbook", "input": "asked of the caller"}


def _binds(p: PlannedStep) -> str | None:
    shown = []
    for b in p.parsed.binds:
        value = f" = {b.value}" if b.value else ""
        shown.append(f"{b.var} -> {b.key}{value} ({_HOW[b.source]})")
    return "; ".join(shown) or None


def new_result(p: PlannedStep) -> StepResult:
    ps, op = p.parsed, p.parsed.operation
    return StepResult(step=p.number, command=ps.command, role=p.role, section=p.shape.section, option=p.option,
                      classification=ps.classification,
                      # a step missing values shows no operation: it would show invented sample values
                      operation=op.describe() if op is not None and not ps.missing else None,
                      binds=_binds(p), result="planned", reason=ps.reason)


def needs(p: PlannedStep, derivable: set[str], bound_by: dict[str, int]) -> str:
    """`needs cdi_namespace (step 2 binds it)`: what a step lacks, and who can give it."""
    text = f"needs {', '.join(p.parsed.missing)}"
    binding = sorted({f"step {bound_by[k]} binds {k}" for k in p.parsed.missing
                      if k in bound_by and bound_by[k] != p.number})
    inline = [f"execute first reads {b.key} with {b.var}" for b in p.parsed.binds
              if b.read is not None and b.key in p.parsed.missing]
    readable = sorted((set(p.parsed.missing) & derivable) - set(bound_by))
    notes = binding + inline + ([f"execute reads {', '.join(readable)} from the cluster"] if readable else [])
    return text + (f" ({'; '.join(notes)})" if notes else "")


def preview_step(p: PlannedStep, policy: Policy, derivable: set[str],
                 bound_by: dict[str, int] | None = None) -> StepResult:
    """A step as `plan` shows it: nothing ran; what it needs, and whether execute can read it."""
    res = new_result(p)
    if p.classification == "manual" or p.classification == "refused":
        res.result = p.classification
    else:
        res.result = "skipped" if p.parsed.missing else "planned"
    if p.parsed.missing:
        res.reason = needs(p, derivable, bound_by or {})
    if p.is_change and p.classification == "change":
        res.risk, why = policy.risk(p.operation)
        res.reason = res.reason or why
    return res


class Runner:
    def __init__(self, policy: Policy, output_chars: int):
        self.policy = policy
        self.output_chars = output_chars

    def output(self, text: str) -> str:
        return trim(redact_text(text), self.output_chars)

    def step(self, p: PlannedStep, mode: str, dry_run: bool, state: RunState) -> StepResult:
        ps = p.parsed
        res = new_result(p)
        if ps.classification == "manual" or ps.classification == "refused":
            res.result = ps.classification
            return res
        if ps.classification == "setup":
            res.result = "skipped" if ps.missing else "success"
            res.reason = f"needs {', '.join(ps.missing)}" if ps.missing else None
            res.dry_run = False
            return res
        op = p.operation
        if op.change:
            res.risk, why = self.policy.risk(op)
            res.reason = res.reason or why
        if ps.missing:
            res.result = "skipped"
            res.reason = f"needs {', '.join(ps.missing)}"
            unbound = [state.unbound[k] for k in ps.missing if k in state.unbound]
            if unbound:  # an inline binding is the step's own: the step says why it did not bind
                res.reason += f" ({'; '.join(unbound)})"
            return res
        if mode == "manual":
            return res
        if state.no_cluster is not None or state.gateway is None:  # no gateway: only in manual mode, above
            res.result = "skipped"
            return res
        if _target(p) in state.failed_targets:
            first = state.failed_targets[_target(p)]
            res.result, res.reason = "skipped", f"step {first} on the same {op.kind[:-1]} failed"
            return res
        if op.change and state.failed is not None:
            res.result, res.reason = "skipped", f"step {state.failed} failed; no change runs after a failed step"
            return res
        try:
            out = state.prefetched.get(p.number) or state.gateway.run(op, apply=False)
        except Refused as exc:  # the policy, once discovery named the kind's API group
            res.result, res.reason = "refused", str(exc)
            return res
        except KubeError as exc:
            if exc.status is None:  # unreachable: every further call would say the same
                state.no_cluster = str(exc)
                res.result = "skipped"
                return res
            res.result, res.reason = "failed", str(exc)
            state.failed = state.failed or p.number
            if _target(p):
                state.failed_targets.setdefault(_target(p), p.number)
            return res
        res.output, res.diff = self.output(out.output), out.diff and self.output(out.diff)
        for kind, obj in out.objects[:100]:
            state.analysis.read(p.number, kind, obj)
        if op.change:
            res.result = "dry_run" if dry_run or op.options.get("dry_run_only") else "pending_approval"
        else:
            res.result, res.dry_run = "success", False
        return res

    def run(self, plan: list[PlannedStep], mode: str, dry_run: bool, state: RunState,
            progress: Progress | None = None) -> list[StepResult]:
        results: list[StepResult] = []
        for i, p in enumerate(plan):
            if progress:
                progress(i, len(plan), f"step {p.number}: {p.parsed.command}"[:200])
            results.append(self.step(p, mode, dry_run, state))
        if progress:
            progress(len(plan), len(plan), "done")
        return results


def summary(record: ExecutionResult) -> dict[str, int]:
    return dict(Counter(s.result for s in record.steps))


def settle(record: ExecutionResult, mode: str, state: RunState) -> None:
    """Status, outcome and the one message that explains them (step reasons are not repeated)."""
    results = [s.result for s in record.steps]
    counts = Counter(results)
    no_cluster = state.no_cluster
    if record.approval is not None and record.approval.status == "pending":
        record.status, record.outcome = "awaiting_approval", "needs_approval"
        record.message = f"{counts['pending_approval']} change(s) wait for a person's approval (see approval.how)"
    elif no_cluster is not None:
        record.status, record.outcome = "failed", "no_cluster"
        record.message = f"{no_cluster}; {counts['skipped']} step(s) did not run"
    elif mode == "manual":
        record.status, record.outcome = "planned", "planned"
    elif results and all(r in ("manual", "refused") for r in results):
        record.status, record.outcome = "failed", "all_refused"
        record.message = (f"none of the {len(results)} planned step(s) can run here: "
                          f"{counts['refused']} refused, {counts['manual']} for a human (see each step's reason)")
    elif "failed" in counts:
        failed = [s.step for s in record.steps if s.result == "failed"]
        stopped = sum(1 for s in record.steps if s.result == "skipped" and "failed" in (s.reason or ""))
        record.status, record.outcome = "failed", "failed"
        record.message = f"step(s) {failed} failed (see their reason)" + (
            f"; {stopped} step(s) that depend on them did not run" if stopped else "")
    else:
        record.status = "dry_run_completed" if "dry_run" in counts else "completed"
        record.outcome = "ok"
        if "dry_run" in counts:
            record.message = ("changes were only dry-run: call execute again with the same selection and "
                              "dry_run=false to ask a person to approve them")
    short = [s for s in record.steps if s.result == "skipped" and (s.reason or "").startswith("needs ")]
    if short and record.outcome in ("ok", "failed", "needs_approval"):
        names = sorted({n.strip() for s in short for n in (s.reason or "").removeprefix("needs ").split(",")})
        note = f"{len(short)} step(s) skipped for missing context values ({', '.join(names)}): pass them in context"
        if state.problems:
            note += f" ({state.problems[0]})"
        record.message = f"{record.message}; {note}" if record.message else note
