"""Helpers shared by the storage tests and benchmarks (importable, unlike conftest)."""

from __future__ import annotations


def execution(execution_id: str, *, status: str = "awaiting_approval", runbook_id: str = "pod-oomkilled",
              requester: str = "agent", created: str = "2031-05-17T09:30:00+00:00", **extra) -> dict:
    """An execution record shaped like the executor's (the store keeps it whole)."""
    return {"execution_id": execution_id, "runbook_id": runbook_id, "status": status, "requester": requester,
            "plan_hash": "sha256:" + execution_id, "created": created, "updated": created, "mode": "semi-automated",
            "dry_run": False, "steps": [{"step": 1, "result": "pending_approval"}], **extra}
