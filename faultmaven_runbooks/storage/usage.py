"""Per-runbook analytics counters (retrievals, executions, resolutions): atomic increments, so
every replica's counts add up and none is lost to a concurrent write."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from sqlalchemy import select

from .base import Repository, iso, upsert_add
from .schema import RunbookUsage

UNASSISTED = ""  # the row counting resolutions made without a runbook; runbook ids are never empty
COUNTS = ("retrievals", "executions", "exec_succeeded", "exec_failed", "exec_seconds_total", "resolutions",
          "resolution_seconds_total", "resolutions_timed")


def _row(r) -> dict:
    return {**{name: getattr(r, name) for name in COUNTS},
            "last_retrieved": iso(r.last_retrieved), "last_executed": iso(r.last_executed)}


class UsageRepo(Repository):
    def add(self, runbook_id: str, deltas: Mapping[str, float], *, last_retrieved: dt.datetime | None = None,
            last_executed: dt.datetime | None = None) -> None:
        """Add any of COUNTS to one runbook's row (the building block of the methods below)."""
        unknown = set(deltas) - set(COUNTS)
        if unknown:
            raise ValueError(f"unknown usage counters {sorted(unknown)}")
        with self._write() as conn:
            upsert_add(conn, RunbookUsage, {"runbook_id": runbook_id}, dict(deltas),
                       {"last_retrieved": last_retrieved, "last_executed": last_executed})

    def add_retrievals(self, counts: Mapping[str, int]) -> None:
        """Search returned these runbooks (id -> times), now."""
        now = self._now()
        with self._write() as conn:
            for runbook_id, count in sorted(counts.items()):  # one lock order: no deadlock between replicas
                upsert_add(conn, RunbookUsage, {"runbook_id": runbook_id}, {"retrievals": count},
                           {"last_retrieved": now})

    def add_execution(self, runbook_id: str, success: bool, seconds: float | None = None) -> None:
        self.add(runbook_id, {"executions": 1, "exec_succeeded" if success else "exec_failed": 1,
                              "exec_seconds_total": seconds or 0.0}, last_executed=self._now())

    def add_resolution(self, runbook_id: str | None, seconds: float | None = None) -> None:
        """An incident resolved with this runbook, or without any (runbook_id None). Callers
        validate `seconds` (non-negative) as the feature's request models do."""
        deltas: dict[str, float] = {"resolutions": 1}
        if seconds is not None:
            deltas.update(resolution_seconds_total=seconds, resolutions_timed=1)
        self.add(UNASSISTED if runbook_id is None else runbook_id, deltas)

    def add_unassisted(self, resolutions: int, seconds_total: float = 0.0, timed: int = 0) -> None:
        """Resolutions reached without any runbook (deltas: negative takes back a re-sent incident's)."""
        self.add(UNASSISTED, {"resolutions": resolutions, "resolution_seconds_total": seconds_total,
                              "resolutions_timed": timed})

    def get(self, runbook_id: str) -> dict | None:
        return self.all([runbook_id]).get(runbook_id)

    def all(self, runbook_ids: Iterable[str] | None = None) -> dict[str, dict]:
        """runbook id -> the metrics.json row shape (counters, last_* as ISO text)."""
        query = select(RunbookUsage).where(RunbookUsage.runbook_id != UNASSISTED)
        if runbook_ids is not None:
            query = query.where(RunbookUsage.runbook_id.in_(list(runbook_ids)))
        with self._read() as conn:
            return {r.runbook_id: _row(r) for r in conn.execute(query)}

    def unassisted(self) -> dict:
        """{resolutions, seconds_total, timed} of incidents resolved without a runbook."""
        with self._read() as conn:
            r = conn.execute(select(RunbookUsage).where(RunbookUsage.runbook_id == UNASSISTED)).first()
        if r is None:
            return {"resolutions": 0, "seconds_total": 0.0, "timed": 0}
        return {"resolutions": r.resolutions, "seconds_total": r.resolution_seconds_total,
                "timed": r.resolutions_timed}
