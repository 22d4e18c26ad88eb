"""Triage records as agents and scripts read them (list_alerts, get_triage, GET /alerts)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..api.alerts import TriageDetail, TriageSummary
from ..storage.triage import TriageRecord


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


def _summary_fields(record: TriageRecord) -> dict[str, Any]:
    labels = record.labels or {}
    return {
        "fingerprint": record.fingerprint, "alertname": record.alertname, "source": record.source,
        "status": record.status, "severity": labels.get("severity"), "namespace": labels.get("namespace"),
        "first_seen": _iso(record.first_seen), "last_seen": _iso(record.last_seen), "times_sent": record.count,
        "runbook_id": record.runbook_id,
        "dry_run_execution_id": record.dry_run_started,
        "resolved_at": _iso(record.resolved_at),
        "resolution_seconds": round(record.resolution_seconds, 1) if record.resolution_seconds is not None else None,
        "runbook_used": record.runbook_used,
    }


def summary_of(record: TriageRecord) -> TriageSummary:
    return TriageSummary(**_summary_fields(record))


def detail_of(record: TriageRecord) -> TriageDetail:
    return TriageDetail(**_summary_fields(record), starts_at=_iso(record.starts_at), labels=record.labels or {},
                        annotations=record.annotations or {}, suggestions=record.suggested_runbooks or [])
