"""Helpers shared by the storage tests (importable, unlike conftest)."""

from __future__ import annotations


def execution(execution_id: str, *, status: str = "awaiting_approval", runbook_id: str = "pod-oomkilled",
              requester: str = "agent", created: str = "2031-05-17T09:30:00+00:00", **extra) -> dict:
    """An execution record shaped like the executor's (the store keeps it whole)."""
    return {"execution_id": execution_id, "runbook_id": runbook_id, "status": status, "requester": requester,
            "plan_hash": "sha256:" + execution_id, "created": created, "updated": created, "mode": "semi-automated",
            "dry_run": False, "steps": [{"step": 1, "result": "pending_approval"}], **extra}


def pattern(pid: str, last_seen: str = "2031-05-17T09:30:00+00:00", **extra) -> dict:
    """A pattern record shaped like the learning feature's (the store keeps it whole)."""
    return {"id": pid, "name": pid.replace("-", " "), "centroid": [0.6, 0.8, 1e-7, -0.123456789012345],
            "members": 1, "successes": 1, "failures": 0, "seconds_total": 300.0, "timed": 1,
            "types": {"oom": 1}, "diagnoses": {}, "solutions": {"raise limit": {"uses": 1, "successes": 1}},
            "triggers": {}, "context": {"service": {"api": 1}}, "incidents": [], "runbook_id": None,
            "created": "2031-05-17T09:30:00+00:00", "last_seen": last_seen, **extra}
