"""Alert triage records, one per Alertmanager fingerprint: how often it fired, what runbooks
were suggested, which dry run was started for it. Every change is one conditional statement,
so replicas receiving the same webhook agree (one dry run per alert, counts not lost)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select, update

from .base import Repository, dialect_insert, where_given
from .paging import Page
from .schema import AlertTriage

FIRING, RESOLVED = "firing", "resolved"


@dataclass(frozen=True)
class TriageRecord:
    fingerprint: str
    alertname: str | None
    labels: dict
    status: str
    first_seen: dt.datetime
    last_seen: dt.datetime
    count: int
    suggested_runbooks: list
    dry_run_execution_id: str | None
    resolved_at: dt.datetime | None


def _record(row) -> TriageRecord:
    return TriageRecord(row.fingerprint, row.alertname, row.labels, row.status, row.first_seen, row.last_seen,
                        row.count, row.suggested_runbooks, row.dry_run_execution_id, row.resolved_at)


class TriageRepo(Repository):
    def fire(self, fingerprint: str, *, alertname: str | None = None, labels: dict | None = None) -> TriageRecord:
        """The alert fires (again): created on first sight, else counted, marked firing, seen now."""
        now = self._now()
        with self._write() as conn:
            insert = dialect_insert(conn, AlertTriage).values(
                fingerprint=fingerprint, alertname=alertname, labels=labels or {}, status=FIRING, first_seen=now,
                last_seen=now, count=1, suggested_runbooks=[], dry_run_execution_id=None, resolved_at=None)
            table = AlertTriage.__table__
            conn.execute(insert.on_conflict_do_update(index_elements=["fingerprint"], set_={
                "count": table.c.count + 1, "last_seen": now, "status": FIRING, "resolved_at": None,
                "labels": insert.excluded.labels,
                "alertname": func.coalesce(insert.excluded.alertname, table.c.alertname)}))
            return _record(conn.execute(select(AlertTriage).where(AlertTriage.fingerprint == fingerprint)).one())

    def resolve(self, fingerprint: str) -> bool:
        """Mark a firing alert resolved; False if unknown or already resolved."""
        now = self._now()
        query = (update(AlertTriage).where(AlertTriage.fingerprint == fingerprint, AlertTriage.status == FIRING)
                 .values(status=RESOLVED, resolved_at=now, last_seen=now))
        with self._write() as conn:
            return conn.execute(query).rowcount == 1

    def suggest(self, fingerprint: str, runbooks: list) -> bool:
        query = update(AlertTriage).where(AlertTriage.fingerprint == fingerprint).values(suggested_runbooks=runbooks)
        with self._write() as conn:
            return conn.execute(query).rowcount == 1

    def claim_dry_run(self, fingerprint: str, execution_id: str) -> bool:
        """Attach a dry run to the alert unless one is attached already: True for exactly one
        caller, so two replicas handling the same webhook start one dry run, not two."""
        query = (update(AlertTriage)
                 .where(AlertTriage.fingerprint == fingerprint, AlertTriage.dry_run_execution_id.is_(None))
                 .values(dry_run_execution_id=execution_id))
        with self._write() as conn:
            return conn.execute(query).rowcount == 1

    def get(self, fingerprint: str) -> TriageRecord | None:
        with self._read() as conn:
            row = conn.execute(select(AlertTriage).where(AlertTriage.fingerprint == fingerprint)).first()
        return _record(row) if row else None

    def page(self, limit: int = 20, cursor: str | None = None, *, status: str | None = None) -> Page[TriageRecord]:
        """Most recently seen first."""
        query = where_given(select(AlertTriage), (AlertTriage.status, status))
        return self._page(query, AlertTriage.last_seen, AlertTriage.fingerprint, limit, cursor, _record)
