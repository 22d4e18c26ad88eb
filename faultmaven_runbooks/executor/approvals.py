"""Approval requests bound to a plan hash (which covers the cluster), with an expiry, and the
rules a decision must pass. Times come from the injected clock.
"""

from __future__ import annotations

import datetime as dt

from ..errors import Conflict, Forbidden
from .models import Approval, ExecutionResult


class ApprovalExpired(Conflict):
    """The approval request timed out before anyone decided."""


def how_to_approve(execution_id: str, approvers_exist: bool) -> str:
    first = "" if approvers_exist else (
        "No approver credentials exist yet: an operator creates one with `faultmaven-runbooks approvers add NAME`. ")
    return (first + f"A person with an approver credential runs `faultmaven-runbooks approve {execution_id}` "
            f"(add --server URL to go through a running server) or POSTs /runbooks/executions/{execution_id}/approve "
            "with 'Authorization: Bearer <approver token>'; the model cannot approve.")


def new_approval(execution_id: str, plan_hash: str, requester: str, changes: list[int], ttl: int,
                 now: dt.datetime, approvers_exist: bool) -> Approval:
    return Approval(
        execution_id=execution_id, plan_hash=plan_hash, requested_by=requester,
        requested_at=now.isoformat(timespec="seconds"),
        expires_at=(now + dt.timedelta(seconds=ttl)).isoformat(timespec="seconds"), changes=changes,
        how=how_to_approve(execution_id, approvers_exist),
    )


def is_expired(approval: Approval, now: dt.datetime) -> bool:
    return now >= dt.datetime.fromisoformat(approval.expires_at)


def check_open(record: ExecutionResult, now: dt.datetime) -> None:
    """Raise unless the record waits for a decision that has not expired."""
    approval = record.approval
    if approval is None or record.status != "awaiting_approval" or approval.status != "pending":
        raise Conflict(f"execution {record.execution_id} is {record.status}; it has nothing waiting for approval "
                       "(a decided approval is never re-opened: run the runbook again for a new plan)")
    if is_expired(approval, now):
        raise ApprovalExpired(f"the approval request expired at {approval.expires_at}; run the runbook again for "
                              "a new plan")


def check_approver(record: ExecutionResult, *, approver: str, plan_hash: str) -> None:
    """Raise unless `approver` may approve this exact plan. Identities, not display names, compare."""
    approval = record.approval
    if approval is None:
        raise Conflict(f"execution {record.execution_id} has no approval request")
    if approver.casefold() == approval.requested_by.casefold():
        # Self-approval: whoever asked for the change must not be the one who lets it through.
        raise Forbidden(f"{approver!r} requested this execution and cannot approve it; another person must")
    if plan_hash != approval.plan_hash:
        # The runbook or the context changed since the plan was shown: the approval was given
        # for another plan.
        raise Conflict("the plan changed since approval was requested (runbook edited?); run the runbook again "
                       "for a new plan")


def mark_expired(record: ExecutionResult, now: str) -> None:
    """The request ran out before anyone decided: nothing was applied, and nothing will be."""
    approval = record.approval
    if approval is None:
        raise Conflict(f"execution {record.execution_id} has no approval request")
    approval.status, record.status, record.outcome, record.updated = "expired", "expired", "expired", now
    record.message = f"the approval request expired at {approval.expires_at}; nothing was applied"


def decide(record: ExecutionResult, *, approver: str, approve: bool, via: str, reason: str | None,
           now: dt.datetime) -> None:
    """A person's decision on the record; a rejection also closes every change that waited for it."""
    if record.approval is None:
        raise Conflict(f"execution {record.execution_id} has no approval request")
    record_decision(record.approval, approver=approver, approve=approve, via=via, reason=reason, now=now)
    if approve:
        return
    for res in record.steps:
        if res.result == "pending_approval":
            res.result = "rejected"
            res.reason = f"rejected by {approver}" + (f": {reason}" if reason else "")
    record.status, record.outcome, record.updated = "rejected", "rejected", now.isoformat(timespec="seconds")
    record.message = f"rejected by {approver}; nothing was applied"


def record_decision(approval: Approval, *, approver: str, approve: bool, via: str, reason: str | None,
                    now: dt.datetime) -> None:
    approval.status = "approved" if approve else "rejected"
    approval.approver = approver
    approval.via = via
    approval.decided_at = now.isoformat(timespec="seconds")
    approval.reason = reason
