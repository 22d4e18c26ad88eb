"""Per-runbook usage analytics, from the state store (storage/).

Retrievals (from search) and executions (from the executor) are atomic counters, so every
replica's counts add up; resolutions and their times are the learning outcomes, where `learn`
and resolved cases count each incident once; alert resolution times come from the triage
records (alerts/); update counts are the kept versions, verification dates come from the
runbook's front matter.
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import threading
import time
import weakref

from ..clock import Clock
from ..errors import InvalidInput, NotFound, StoreUnavailable
from ..learning.stats import format_duration, runbook_summary
from ..library.store import RunbookLibrary
from ..paging import DEFAULT_LIMIT, page
from ..settings import LearningSettings

log = logging.getLogger(__name__)


FLUSH_SECONDS = 5.0
NO_USE = {"retrievals": 0, "executions": 0, "exec_succeeded": 0, "exec_failed": 0, "exec_seconds_total": 0.0,
          "last_retrieved": None, "last_executed": None}
NOT_RESOLVED = {"uses": 0, "resolved": 0, "failed": 0, "seconds_total": 0.0, "timed": 0}


def _avg(seconds_total: float, timed: int) -> float | None:
    return seconds_total / timed if timed else None


def _seconds(value: float | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise InvalidInput("seconds must be a non-negative number")
    return float(value)


def _date(value: object) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


class Analytics:
    def __init__(self, store, library: RunbookLibrary, clock: Clock, features: LearningSettings | None = None):
        self.store = store  # usage counters, learning outcomes, kept versions
        self.library = library
        self.clock = clock
        self.features = features or LearningSettings()
        self._pending: dict[str, int] = {}
        self._pending_lock = threading.Lock()
        self._flushed = time.monotonic()
        # RunbookService.close() flushes; a process that never closes it (a CLI search) flushes here.
        atexit.register(_flush_at_exit, weakref.ref(self))

    # -- recording (cheap; called on hot paths) -----------------------------------------------
    def record_retrieval(self, runbook_ids: list[str]) -> None:
        """Count retrievals in memory; a database write per search would cost more than the
        search itself, so counts reach the store at most every FLUSH_SECONDS (and at shutdown)."""
        with self._pending_lock:
            for rid in dict.fromkeys(runbook_ids):
                self._pending[rid] = self._pending.get(rid, 0) + 1
            due = time.monotonic() - self._flushed >= FLUSH_SECONDS
        if due:
            try:
                self.flush()
            except StoreUnavailable:  # a search never fails for its analytics: kept for the next flush
                log.warning("retrieval counts kept in memory: the state database is unavailable")

    def flush(self) -> None:
        with self._pending_lock:
            pending, self._pending = self._pending, {}
            self._flushed = time.monotonic()
        if not pending:
            return
        try:
            self.store.usage.add_retrievals(pending)
        except BaseException:
            with self._pending_lock:  # nothing was added (one transaction): count them next time
                for rid, count in pending.items():
                    self._pending[rid] = self._pending.get(rid, 0) + count
            raise

    def record_execution(self, runbook_id: str, success: bool, seconds: float | None = None) -> None:
        self.store.usage.add_execution(runbook_id, success, _seconds(seconds))

    # -- report ------------------------------------------------------------------------------
    def report(self, runbook_id: str | None = None, cursor: str | None = None, limit: int = DEFAULT_LIMIT,
               stale_only: bool = False) -> dict:
        """One page of per-runbook rows (sorted by id), plus resolution time with and without a
        runbook over every learned incident."""
        self.flush()
        usage = self.store.usage.all()
        outcomes = self.store.outcomes.runbooks()
        updates = self.store.versions.counts()
        runbooks = {rb.id: rb for _, (_, rb) in self.library.scan().items()}
        known = set(runbooks) | set(usage) | {rid for rid, o in outcomes.items() if o["uses"] > 0}
        if runbook_id is not None and runbook_id not in known:
            raise NotFound(f"no runbook with id {runbook_id!r}; use `search` to find runbook ids")
        ids = [runbook_id] if runbook_id else sorted(known)
        rows = [self._runbook_row(rid, usage.get(rid) or NO_USE, runbooks.get(rid), outcomes.get(rid) or NOT_RESOLVED,
                                  updates.get(rid, 0)) for rid in ids]
        if stale_only:
            rows = [r for r in rows if r["stale"]]
        shown, next_cursor = page(rows, lambda r: r["id"], "runbook_analytics", cursor, limit)
        with_rb = list(outcomes.values())
        un = self.store.usage.unassisted()
        avg_with = _avg(sum(r["seconds_total"] for r in with_rb), sum(r["timed"] for r in with_rb))
        avg_without = _avg(un["seconds_total"], un["timed"])
        return {
            "runbooks": shown,
            "total": len(rows),
            "next_cursor": next_cursor,
            "resolution_time": {
                "with_runbook_avg_seconds": round(avg_with, 1) if avg_with is not None else None,
                "with_runbook_avg": format_duration(avg_with),
                "without_runbook_avg_seconds": round(avg_without, 1) if avg_without is not None else None,
                "without_runbook_avg": format_duration(avg_without),
                "resolutions_with_runbook": sum(r["resolved"] for r in with_rb),
                "resolutions_without_runbook": un["resolutions"],
                "alerts": self._alert_resolution(),
            },
            "stale_count": sum(1 for r in rows if r["stale"]) if not stale_only else len(rows),
        }

    def _alert_resolution(self) -> dict:
        """Time to resolve from the triage records (first fired to resolved, per alert), split by
        whether a runbook was used on the alert (its dry run ran): the 001 specification's phase 4,
        from what really fired rather than from what someone reported to `learn`."""
        totals = self.store.triage.resolution_totals()
        answer: dict = {}
        for used, name in ((True, "with_runbook"), (False, "without_runbook")):
            count, seconds = totals.get(used, (0, 0.0))
            avg = _avg(seconds, count)
            answer[f"{name}_avg_seconds"] = round(avg, 1) if avg is not None else None
            answer[f"{name}_avg"] = format_duration(avg)
            answer[f"alerts_resolved_{name}"] = count
        return answer

    def _runbook_row(self, rid: str, m: dict, rb, resolved: dict, updates: int) -> dict:
        execs = m["executions"]
        verified = None
        status = None
        if rb is not None:
            status = rb.status
            verified = _date(rb.metadata.get("last_verified") or rb.metadata.get("verified_at"))
            if verified is None and status == "verified":
                verified = _date(rb.last_updated)
        reference = verified or (_date(rb.last_updated or rb.created) if rb is not None else None)
        stale, why = self._stale(status, reference, m)
        avg = _avg(resolved["seconds_total"], resolved["timed"])
        return {
            "id": rid, "title": rb.title if rb else None, "exists": rb is not None, "status": status,
            "retrievals": m["retrievals"], "executions": execs,
            "execution_success_rate": round(m["exec_succeeded"] / execs, 3) if execs else None,
            "resolutions": resolved["resolved"],
            "avg_resolution_seconds": round(avg, 1) if avg is not None else None,
            "outcomes": runbook_summary(resolved) if resolved["uses"] > 0 else None, "update_count": updates,
            "last_verified": verified.isoformat() if verified else None,
            "last_retrieved": m["last_retrieved"], "last_executed": m["last_executed"],
            "stale": stale, "stale_reason": why,
        }

    def _stale(self, status: str | None, verified: dt.date | None, m: dict) -> tuple[bool, str | None]:
        if status in ("stale", "deprecated"):
            return True, f"status is {status}"
        if m["executions"] >= 3 and m["exec_failed"] / m["executions"] > 0.5:
            return True, f"{m['exec_failed']} of {m['executions']} executions failed"
        if verified is None:
            return False, None
        age = (self.clock().date() - verified).days
        if age > self.features.stale_days:
            what = "draft not reviewed for" if status == "draft" else "not verified or updated for"
            return True, f"{what} {age} days (limit {self.features.stale_days})"
        return False, None


def _flush_at_exit(ref: weakref.ref) -> None:
    analytics = ref()
    if analytics is not None and analytics._pending:
        try:
            analytics.flush()
        except Exception:  # exiting: say what was lost, never fail the exit
            log.warning("retrieval counts of this process not saved: the state database is unavailable")
