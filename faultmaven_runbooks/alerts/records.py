"""What triage keeps and who it tells: an alert's identity and bounds, its triage record, the
dry-run claim, and the notification of a new or resolved alert.

- Identity: Alertmanager's fingerprint; an alert without one (the n8n shape) gets one derived
  from what it is (alertname and labels), so sending the same alert again finds the same record.
- Bounds: an alert with thousands of labels or a megabyte annotation is cut, never refused, and
  the answer says what was cut: the record and the notification stay small.
- Records: one per fingerprint; re-sends update it (count, last seen), the first send of an
  episode opens it and tells people, a resolve closes it and tells them again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from typing import Any, Protocol

from ..clock import parse_time
from ..errors import RunbookError
from ..storage.triage import PENDING, TriageRecord
from .events import MAX_LABELS, MAX_TEXT, AlertEvent, RunbookMatch, Transition, cut, why_text

log = logging.getLogger(__name__)

MAX_LABEL_VALUE = 1000
MAX_ANNOTATIONS = 50
# Labels kept first when an alert carries too many: the ones triage and people read.
KEY_LABELS = ("alertname", "severity", "namespace", "pod", "container", "deployment", "service", "job", "instance",
              "node", "cluster")
Notify = Callable[[AlertEvent], object]


class Records(Protocol):
    """The parts of storage's TriageRepo triage uses."""

    def fire(self, fingerprint: str, *, alertname: str | None = ..., labels: dict | None = ...,
             source: str | None = ..., starts_at: dt.datetime | None = ...,
             annotations: dict | None = ...) -> TriageRecord: ...
    def resolve(self, fingerprint: str, ends_at: dt.datetime | None = ...) -> TriageRecord | None: ...
    def suggest(self, fingerprint: str, runbooks: list, runbook_id: str | None = ...) -> bool: ...
    def claim_dry_run(self, fingerprint: str, execution_id: str) -> bool: ...
    def settle_dry_run(self, fingerprint: str, claim: str, execution_id: str | None) -> bool: ...
    def get(self, fingerprint: str) -> TriageRecord | None: ...


def derived_fingerprint(alertname: str, labels: dict[str, str]) -> str:
    """A stable fingerprint for an alert its sender did not fingerprint: the first 16 hex digits
    of SHA-256 over the alert name and its labels (sorted, as JSON): as long as Alertmanager's own."""
    identity = json.dumps({"alertname": alertname, "labels": dict(sorted(labels.items()))}, separators=(",", ":"))
    return hashlib.sha256(identity.encode()).hexdigest()[:16]


def bounded(labels: dict[str, str], annotations: dict[str, str]) -> tuple[dict[str, str], dict[str, str], list[str]]:
    """Labels and annotations within limits, and a warning per cut."""
    warnings = []
    if len(labels) > MAX_LABELS:
        order = sorted(labels, key=lambda k: (k not in KEY_LABELS, KEY_LABELS.index(k) if k in KEY_LABELS else 0, k))
        warnings.append(f"{len(labels)} labels: kept {MAX_LABELS} (alertname, severity, namespace... first)")
        labels = {k: labels[k] for k in order[:MAX_LABELS]}
    long_values = [k for k, v in labels.items() if len(v) > MAX_LABEL_VALUE]
    if long_values:
        warnings.append(f"label(s) {', '.join(sorted(long_values)[:5])} cut to {MAX_LABEL_VALUE} characters")
        labels = {k: cut(v, MAX_LABEL_VALUE) for k, v in labels.items()}
    if len(annotations) > MAX_ANNOTATIONS:
        warnings.append(f"{len(annotations)} annotations: kept the first {MAX_ANNOTATIONS} by name")
        annotations = {k: annotations[k] for k in sorted(annotations)[:MAX_ANNOTATIONS]}
    long_notes = [k for k, v in annotations.items() if len(v) > MAX_TEXT]
    if long_notes:
        warnings.append(f"annotation(s) {', '.join(sorted(long_notes)[:5])} cut to {MAX_TEXT} characters")
        annotations = {k: cut(v, MAX_TEXT) for k, v in annotations.items()}
    if warnings:
        log.warning("alert %s cut: %s", cut(labels.get("alertname", "?"), 200), "; ".join(warnings))
    return labels, annotations, warnings


def time_of(value: str | None) -> dt.datetime | None:
    """Alertmanager's RFC 3339 time; None for its zero time ("0001-01-01T00:00:00Z") or garbage."""
    if not value or value.startswith("0001-"):
        return None
    return parse_time(value)


def best_match(suggestions: list[dict[str, Any]]) -> RunbookMatch | None:
    if not suggestions:
        return None
    hit = suggestions[0].get("runbook") or {}
    try:
        return RunbookMatch(id=hit["id"], title=hit.get("title") or hit["id"],
                            score=min(max(float(hit.get("relevance_score") or 0), 0.0), 1.0),
                            section=hit.get("section") or "",
                            why=why_text(hit["why"]) if isinstance(hit.get("why"), dict) else "")
    except (KeyError, TypeError, ValueError):
        return None


class Keeper:
    """Record keeping and notifications for triage; `records` None keeps nothing (a read-only
    server), `notify` None tells nobody."""

    def __init__(self, records: Records | None, notify: Notify | None):
        self.records = records
        self.notify = notify

    def fire(self, fingerprint: str, alertname: str, labels: dict[str, str], annotations: dict[str, str],
             source: str, starts_at: dt.datetime | None) -> TriageRecord | None:
        if self.records is None:
            return None
        return self.records.fire(fingerprint, alertname=alertname, labels=labels, source=source,
                                 starts_at=starts_at, annotations=annotations)

    def suggested(self, record: TriageRecord | None, suggestions: list[dict[str, Any]]) -> None:
        if self.records is not None and record is not None:
            best = suggestions[0]["runbook"]["id"] if suggestions else None
            self.records.suggest(record.fingerprint, suggestions, best)

    def dry_run_once(self, fingerprint: str | None, start: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """Run `start` unless this alert has its dry run already (claimed by this or another
        replica): a re-send, or the same webhook on two replicas, never dry-runs twice."""
        if self.records is None or fingerprint is None:
            return start()
        claim = f"{PENDING}{uuid.uuid4().hex}"
        if not self.records.claim_dry_run(fingerprint, claim):
            found = self.records.get(fingerprint)
            started = found.dry_run_started if found else None
            return {"skipped": "a dry run was started for this alert already",
                    **({"execution_id": started} if started else {})}
        execution_id = None
        try:
            execution = start()
            execution_id = execution.get("execution_id") if isinstance(execution.get("execution_id"), str) else None
            return execution
        finally:  # a dry run that could not start gives its claim up: a later send may try again
            self.records.settle_dry_run(fingerprint, claim, execution_id)

    def resolve(self, fingerprint: str, ends_at: dt.datetime | None) -> TriageRecord | None:
        return self.records.resolve(fingerprint, ends_at) if self.records is not None else None

    def tell(self, transition: Transition, record: TriageRecord, *, generator_url: str | None = None,
             ends_at: dt.datetime | None = None) -> None:
        """Hand the notifier a new or resolved alert (it queues, never sends in this path)."""
        if self.notify is None:
            return
        labels, notes = record.labels or {}, record.annotations or {}
        try:
            event = AlertEvent(
                fingerprint=record.fingerprint, transition=transition, alertname=record.alertname or "unknown",
                severity=labels.get("severity"), summary=notes.get("summary"), description=notes.get("description"),
                labels=labels, starts_at=record.episode_start, ends_at=ends_at, generator_url=generator_url,
                runbook=best_match(record.suggested_runbooks),
                approval_execution_id=record.dry_run_started)
            self.notify(event)
        except (ValueError, RunbookError) as exc:  # a notification never fails the webhook
            log.warning("alert %s not notified: %s", cut(record.fingerprint, 200), exc)
