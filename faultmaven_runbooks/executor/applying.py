"""Sending approved changes, crash-safe, and recovering applies a crash cut short.

Before any change is sent the execution enters `applying` (a compare-and-set from
`awaiting_approval` in the state store, so one approval applies once, on any replica) and that
is audited. Each change is marked `applying` in the record before it is sent and given its
result after. If the process dies meanwhile, the next executor on that host finds the record
`applying` with a dead owner and marks it `interrupted`: the change in flight is reported as
possibly applied, the rest as not sent, and nothing is ever sent again for that execution (a
save under `applying` after that fails, so even a late writer sends nothing more).
"""

from __future__ import annotations

import logging

from ..errors import RunbookError
from .apiresult import KubeError
from .audit import AuditLog
from .kube import KubeGateway
from .models import ExecutionResult, ExecutionStatus, Outcome
from .operation import Refused
from .planner import PlannedStep
from .process import current_owner, owner_alive
from .records import ExecutionRecords
from .runner import Runner, summary

log = logging.getLogger(__name__)
INTERRUPTED = ("the server stopped while this change was being sent: it may or may not have reached the cluster; "
               "check the cluster before doing it again")
NOT_SENT = "not sent: the server stopped before this change"


def _applying(rec: ExecutionResult, now: str) -> None:
    rec.status, rec.outcome, rec.updated, rec.owner = "applying", "applying", now, current_owner()


def start(store: ExecutionRecords, record: ExecutionResult, now: str) -> ExecutionResult:
    """A new record that applies at once (fully-automated mode): written as `applying` first."""
    _applying(record, now)
    store.add(record)
    return record


def decide(store: ExecutionRecords, record: ExecutionResult, now: str, decision) -> ExecutionResult:
    """The decision, and for an approval the move to `applying`, in one compare-and-set from
    `awaiting_approval`: of two approvers, or an approver and an expiry, exactly one wins."""

    def change(rec: ExecutionResult) -> None:
        decision(rec)
        if rec.status == "awaiting_approval":
            _applying(rec, now)

    return store.transition(record.execution_id, "awaiting_approval", change)


def audit_applying(audit: AuditLog, record: ExecutionResult, steps: list[int]) -> None:
    audit.record("execute.applying", execution_id=record.execution_id, runbook_id=record.runbook_id, steps=steps,
                 plan_hash=record.plan_hash, cluster=record.cluster.server if record.cluster else None,
                 owner=record.owner)


def send(store: ExecutionRecords, audit: AuditLog, runner: Runner, gateway: KubeGateway, record: ExecutionResult,
         planned: dict[int, PlannedStep], steps: list[int], who: dict) -> bool:
    """Apply each listed step once, in order; the first failure stops the rest. True if none failed."""
    failed = False
    for res in record.steps:
        if res.step not in steps:
            continue
        if failed:
            res.result, res.reason = "skipped", "an earlier change failed; not applied"
            continue
        res.result = "applying"
        store.save(record)  # written before the change is sent: a crash now reads as "in flight"
        try:
            out = gateway.run(planned[res.step].operation, apply=True)
            res.result, res.dry_run, res.output = "success", False, runner.output(out.output)
            res.diff = out.diff and runner.output(out.diff)
            res.reason = None
        except KubeError as exc:
            res.result, res.reason, failed = "failed", str(exc), True
        except Refused as exc:  # the policy, once discovery named a custom kind's API group: nothing was sent
            res.result, res.reason, failed = "refused", str(exc), True
        except Exception:  # a bug mid-send: the change may have left; say so, never leave it "applying"
            log.exception("sending step %s of %s failed unexpectedly", res.step, record.execution_id)
            res.result, res.reason, failed = "interrupted", INTERRUPTED, True
        store.save(record)
        audit.record("execute.apply", **who, step=res.step, result=res.result, reason=res.reason)
    return not failed


def finish(store: ExecutionRecords, audit: AuditLog, record: ExecutionResult, status: ExecutionStatus, now: str,
           outcome: Outcome, message: str | None, who: dict) -> ExecutionResult:
    def change(rec: ExecutionResult) -> None:
        rec.steps, rec.approval = record.steps, record.approval
        rec.status, rec.outcome, rec.message, rec.updated, rec.owner = status, outcome, message, now, None

    record = store.transition(record.execution_id, "applying", change)
    audit.record("execute.finish", **who, status=record.status, summary=summary(record))
    return record


def recover(store: ExecutionRecords, audit: AuditLog, now: str) -> list[str]:
    """Mark applies whose process is gone as interrupted. Returns their ids."""
    done = []
    cursor = None
    while True:
        page, cursor = store.page(100, cursor, status="applying")
        for record in page:
            if owner_alive(record.owner) is not False:
                continue  # still running here, or on another host we cannot check
            try:
                interrupted = store.transition(record.execution_id, "applying", lambda rec: _interrupt(rec, now))
            except RunbookError as exc:  # a concurrent recovery won; nothing to do
                log.info("recovery of %s skipped: %s", record.execution_id, exc)
                continue
            audit.record("execute.interrupted", execution_id=record.execution_id, runbook_id=record.runbook_id,
                         plan_hash=record.plan_hash, owner=record.owner,
                         steps={s.step: s.result for s in interrupted.steps if s.classification == "change"})
            done.append(record.execution_id)
        if cursor is None:
            return done


def _interrupt(rec: ExecutionResult, now: str) -> None:
    approved = set(rec.approval.changes) if rec.approval else set()
    for res in rec.steps:
        if res.result == "applying":
            res.result, res.reason = "interrupted", INTERRUPTED
        elif res.result == "pending_approval" and (res.step in approved or rec.approval is None):
            res.result, res.reason = "skipped", NOT_SENT
    in_flight = [s.step for s in rec.steps if s.result == "interrupted"]
    rec.status, rec.outcome, rec.updated, rec.owner = "interrupted", "interrupted", now, None
    rec.message = (f"the server stopped while applying; step(s) {in_flight} may or may not have been applied, "
                   "nothing was or will be sent again: check the cluster, then run the runbook again if needed"
                   if in_flight else "the server stopped before sending any change; nothing was sent")
