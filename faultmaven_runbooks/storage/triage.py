"""Alert triage records, one per alert fingerprint: how often it was sent in this episode, what
runbooks were suggested, which dry run was started for it, and how its resolution went.

Every change that replicas can race on is one conditional statement, so two replicas receiving
the same webhook agree: one of them opens the episode (and tells people), one claims the dry run,
one closes the record. An episode is one firing of the alert, from first fire to resolve; an
alert that fires again after resolving opens a new episode on the same record.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields

from sqlalchemy import case, func, select, update

from .base import Repository, dialect_insert, where_given
from .paging import Page
from .schema import AlertTriage

FIRING, RESOLVED = "firing", "resolved"
PENDING = "pending:"  # prefix of a dry-run claim whose execution is still being created


@dataclass(frozen=True)
class TriageRecord:
    fingerprint: str
    alertname: str | None
    labels: dict
    status: str
    first_seen: dt.datetime
    last_seen: dt.datetime
    count: int  # times sent in this episode
    suggested_runbooks: list
    dry_run_execution_id: str | None
    resolved_at: dt.datetime | None
    source: str | None = None
    starts_at: dt.datetime | None = None
    annotations: dict | None = None
    runbook_id: str | None = None
    runbook_used: bool | None = None
    resolution_seconds: float | None = None
    opened: bool = False  # set by fire(): this call opened the episode (first sight, or firing again)

    @property
    def dry_run_started(self) -> str | None:
        """The dry run's execution id once it exists: a PENDING claim is not one anyone can open."""
        claim = self.dry_run_execution_id
        return claim if claim and not claim.startswith(PENDING) else None

    @property
    def episode_start(self) -> dt.datetime:
        """When this firing began: the sender's startsAt, else when this server first saw it."""
        return self.starts_at or self.first_seen


COLUMNS = [f.name for f in fields(TriageRecord) if f.name != "opened"]


def _record(row, opened: bool = False) -> TriageRecord:
    return TriageRecord(**{name: getattr(row, name) for name in COLUMNS}, opened=opened)


class TriageRepo(Repository):
    def fire(self, fingerprint: str, *, alertname: str | None = None, labels: dict | None = None,
             source: str | None = None, starts_at: dt.datetime | None = None,
             annotations: dict | None = None) -> TriageRecord:
        """The alert fires (again). Created on first sight; a resolved record, or one whose sender
        reports a later start (a resolve we never got), opens a new episode; otherwise counted
        and seen now. `opened` is True for exactly one caller per episode, on any replica: the
        upsert takes the row's lock, so a second caller sees the first one's count."""
        now = self._now()
        table = AlertTriage.__table__
        with self._write() as conn:
            insert = dialect_insert(conn, AlertTriage).values(
                fingerprint=fingerprint, alertname=alertname, labels=labels or {}, status=FIRING, first_seen=now,
                last_seen=now, count=1, suggested_runbooks=[], dry_run_execution_id=None, resolved_at=None,
                source=source, starts_at=starts_at, annotations=annotations)
            new_start = insert.excluded.starts_at
            reopen = (table.c.status == RESOLVED) | (
                new_start.is_not(None) & table.c.starts_at.is_not(None) & (new_start > table.c.starts_at))

            def fresh(value, kept):  # the new episode's value, else the stored one
                return case((reopen, value), else_=kept)

            conn.execute(insert.on_conflict_do_update(index_elements=["fingerprint"], set_={
                "count": fresh(1, table.c.count + 1), "first_seen": fresh(now, table.c.first_seen),
                "dry_run_execution_id": fresh(None, table.c.dry_run_execution_id),
                "runbook_used": fresh(None, table.c.runbook_used),
                "resolution_seconds": fresh(None, table.c.resolution_seconds),
                "starts_at": fresh(new_start, func.coalesce(table.c.starts_at, new_start)),
                "last_seen": now, "status": FIRING, "resolved_at": None,
                "labels": insert.excluded.labels, "annotations": insert.excluded.annotations,
                "source": func.coalesce(insert.excluded.source, table.c.source),
                "alertname": func.coalesce(insert.excluded.alertname, table.c.alertname)}))
            row = conn.execute(select(AlertTriage).where(AlertTriage.fingerprint == fingerprint)).one()
            return _record(row, opened=row.count == 1)

    def resolve(self, fingerprint: str, ends_at: dt.datetime | None = None) -> TriageRecord | None:
        """Close a firing alert's record: the closed record for the one caller that closed it,
        None if unknown or closed already. Time to resolve runs from the episode's start to the
        sender's endsAt (else now); a runbook counts as used when a dry run was started for it."""
        now = self._now()
        query = (update(AlertTriage).where(AlertTriage.fingerprint == fingerprint, AlertTriage.status == FIRING)
                 .values(status=RESOLVED, resolved_at=now, last_seen=now))
        with self._write() as conn:
            if conn.execute(query).rowcount != 1:
                return None
            row = _record(conn.execute(select(AlertTriage).where(AlertTriage.fingerprint == fingerprint)).one())
            end = ends_at if ends_at is not None and ends_at >= row.episode_start else now
            seconds = max(0.0, (end - row.episode_start).total_seconds())
            used = row.dry_run_started is not None
            conn.execute(update(AlertTriage).where(AlertTriage.fingerprint == fingerprint)
                         .values(resolution_seconds=seconds, runbook_used=used))
        return TriageRecord(**{**{n: getattr(row, n) for n in COLUMNS}, "resolution_seconds": seconds,
                               "runbook_used": used})

    def suggest(self, fingerprint: str, runbooks: list, runbook_id: str | None = None) -> bool:
        query = (update(AlertTriage).where(AlertTriage.fingerprint == fingerprint)
                 .values(suggested_runbooks=runbooks, runbook_id=runbook_id))
        with self._write() as conn:
            return conn.execute(query).rowcount == 1

    def claim_dry_run(self, fingerprint: str, execution_id: str) -> bool:
        """Attach a dry run to the alert unless one is attached already: True for exactly one
        caller, so two replicas handling the same webhook start one dry run, not two. Claim with
        a PENDING token before creating the execution, then `settle_dry_run` with its id."""
        query = (update(AlertTriage)
                 .where(AlertTriage.fingerprint == fingerprint, AlertTriage.dry_run_execution_id.is_(None))
                 .values(dry_run_execution_id=execution_id))
        with self._write() as conn:
            return conn.execute(query).rowcount == 1

    def settle_dry_run(self, fingerprint: str, claim: str, execution_id: str | None) -> bool:
        """Replace this caller's claim with the execution's id, or give it up (None) when the dry
        run could not start, so a later re-send may try again."""
        query = (update(AlertTriage)
                 .where(AlertTriage.fingerprint == fingerprint, AlertTriage.dry_run_execution_id == claim)
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

    def resolution_totals(self) -> dict[bool, tuple[int, float]]:
        """Closed records with a resolution time, by whether a runbook was used: (count, seconds)."""
        used = func.coalesce(AlertTriage.runbook_used, False)
        query = (select(used, func.count(), func.sum(AlertTriage.resolution_seconds))
                 .where(AlertTriage.resolution_seconds.is_not(None)).group_by(used))
        with self._read() as conn:
            return {bool(u): (int(n), float(total or 0.0)) for u, n, total in conn.execute(query).all()}
