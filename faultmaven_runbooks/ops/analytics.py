"""Per-runbook usage analytics.

Retrievals (from search) and executions (from the executor) are kept in
data_dir/cache/metrics.json; resolutions and their times are read from the learning statistics,
where `learn` and resolved cases count each incident once; update counts come from the version
store, verification dates from the runbook's front matter.
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import threading
import time

from ..errors import InvalidInput, NotFound
from ..learning.jsonstate import JsonState
from ..learning.stats import format_duration
from ..library.versions import VersionStore
from ..paging import DEFAULT_LIMIT, page
from ..settings import LearningSettings

log = logging.getLogger(__name__)


FLUSH_SECONDS = 5.0


def _empty() -> dict:
    return {"schema": 1, "runbooks": {}}


def _row(state: dict, runbook_id: str) -> dict:
    return state["runbooks"].setdefault(runbook_id, {
        "retrievals": 0, "executions": 0, "exec_succeeded": 0, "exec_failed": 0, "exec_seconds_total": 0.0,
        "last_retrieved": None, "last_executed": None})


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
    def __init__(self, settings, service, features: LearningSettings | None = None):
        self.settings = settings
        self.service = service
        self.features = features or settings.learning
        self.clock = service.clock
        self.state = JsonState(settings.data_dir / "cache" / "metrics.json", _empty)
        self.versions = VersionStore(settings.data_dir, self.clock)
        self._pending: dict[str, int] = {}
        self._pending_lock = threading.Lock()
        self._flushed = time.monotonic()
        atexit.register(self.flush)

    # -- recording (cheap; called on hot paths) -----------------------------------------------
    def record_retrieval(self, runbook_ids: list[str]) -> None:
        """Count retrievals in memory; a locked, fsynced write per search would cost more than
        the search itself, so counts reach metrics.json at most every FLUSH_SECONDS."""
        with self._pending_lock:
            for rid in dict.fromkeys(runbook_ids):
                self._pending[rid] = self._pending.get(rid, 0) + 1
            due = time.monotonic() - self._flushed >= FLUSH_SECONDS
        if due:
            self.flush()

    def flush(self) -> None:
        with self._pending_lock:
            pending, self._pending = self._pending, {}
            self._flushed = time.monotonic()
        if not pending:
            return
        now = self.clock().isoformat(timespec="seconds")
        with self.state.update() as state:
            for rid, count in pending.items():
                row = _row(state, rid)
                row["retrievals"] += count
                row["last_retrieved"] = now

    def record_execution(self, runbook_id: str, success: bool, seconds: float | None = None) -> None:
        seconds = _seconds(seconds)
        with self.state.update() as state:
            row = _row(state, runbook_id)
            row["executions"] += 1
            row["exec_succeeded" if success else "exec_failed"] += 1
            row["exec_seconds_total"] += seconds or 0.0
            row["last_executed"] = self.clock().isoformat(timespec="seconds")

    # -- report ------------------------------------------------------------------------------
    def report(self, runbook_id: str | None = None, cursor: str | None = None, limit: int = DEFAULT_LIMIT,
               stale_only: bool = False) -> dict:
        """One page of per-runbook rows (sorted by id), plus resolution time with and without a
        runbook over every learned incident."""
        self.flush()
        state = self.state.read()
        library = self.service.library
        runbooks = {rb.id: rb for _, (_, rb) in library.scan().items()}
        times = self._resolution_times()
        known = set(runbooks) | set(state["runbooks"]) | set(times["runbooks"])
        if runbook_id is not None and runbook_id not in known:
            raise NotFound(f"no runbook with id {runbook_id!r}; use `search` to find runbook ids")
        ids = [runbook_id] if runbook_id else sorted(known)
        rows = [self._runbook_row(rid, state["runbooks"].get(rid), runbooks.get(rid), times["runbooks"].get(rid))
                for rid in ids]
        if stale_only:
            rows = [r for r in rows if r["stale"]]
        shown, next_cursor = page(rows, lambda r: r["id"], "runbook_analytics", cursor, limit)
        with_rb = list(times["runbooks"].values())
        un = times["unassisted"]
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
                "resolutions_without_runbook": un["resolved"],
            },
            "stale_count": sum(1 for r in rows if r["stale"]) if not stale_only else len(rows),
        }

    def _resolution_times(self) -> dict:
        learning = getattr(self.service, "learning", None)
        if learning is None:
            return {"runbooks": {}, "unassisted": {"resolved": 0, "seconds_total": 0.0, "timed": 0}}
        return learning.resolution_times()

    def _runbook_row(self, rid: str, m: dict | None, rb, resolved: dict | None) -> dict:
        m = m or _row({"runbooks": {}}, rid)
        execs = m["executions"]
        verified = None
        status = None
        if rb is not None:
            status = rb.status
            verified = _date(rb.metadata.get("last_verified") or rb.metadata.get("verified_at"))
            if verified is None and status == "verified":
                verified = _date(rb.last_updated)
        updates = self.versions.update_count(rid)
        reference = verified or (_date(rb.last_updated or rb.created) if rb is not None else None)
        stale, why = self._stale(status, reference, m)
        learning = getattr(self.service, "learning", None)
        learned = learning.runbook_stats(rid) if learning is not None else None
        resolved = resolved or {"resolved": 0, "seconds_total": 0.0, "timed": 0}
        avg = _avg(resolved["seconds_total"], resolved["timed"])
        return {
            "id": rid, "title": rb.title if rb else None, "exists": rb is not None, "status": status,
            "retrievals": m["retrievals"], "executions": execs,
            "execution_success_rate": round(m["exec_succeeded"] / execs, 3) if execs else None,
            "resolutions": resolved["resolved"],
            "avg_resolution_seconds": round(avg, 1) if avg is not None else None,
            "outcomes": learned, "update_count": updates,
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
