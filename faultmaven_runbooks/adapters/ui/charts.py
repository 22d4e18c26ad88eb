"""The four dashboards of the specification as charts, from what the service's use cases answer.

Each chart is data (labels, series) the page draws with Chart.js and also lists as a table, so
the numbers are there for a screen reader, a keyboard, or a browser without scripts. A chart with
nothing to show says why instead of drawing empty axes.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ...api.alerts import ListAlertsRequest
from ...api.base import PageRequest
from ...api.executions import ListExecutionsRequest
from ...api.learning import AnalyticsRequest
from ...paging import MAX_LIMIT

EXECUTIONS_READ = 2000  # newest executions the trends are drawn from
ALERTS_READ = 2000  # newest alert triage records the trends are drawn from
TOP = 12  # runbooks or patterns per bar chart


@dataclass
class Series:
    label: str
    data: list[float | None]


@dataclass
class Chart:
    id: str
    title: str
    kind: str  # bar, line or doughnut (Chart.js types)
    labels: list[str]
    series: list[Series]
    unit: str = ""
    empty: str = "Nothing recorded yet."
    stacked: bool = False
    note: str | None = None
    axis: str = "runbook"  # what the labels are, the first column of the figures table

    @property
    def has_data(self) -> bool:
        return bool(self.labels) and any(v is not None for s in self.series for v in s.data)

    def rows(self) -> list[list[Any]]:
        """The chart as table rows: a label, then one value per series."""
        return [[label, *(s.data[i] for s in self.series)] for i, label in enumerate(self.labels)]

    def spec(self) -> dict[str, Any]:
        return {"kind": self.kind, "labels": self.labels, "unit": self.unit, "stacked": self.stacked,
                "series": [{"label": s.label, "data": s.data} for s in self.series]}


@dataclass
class Dashboard:
    slug: str
    title: str
    summary: list[tuple[str, str]] = field(default_factory=list)  # (what, figure)
    charts: list[Chart] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def everything(fetch: Callable[[str | None], tuple[list[Any], str | None]], cap: int) -> list[Any]:
    """Every row of a paged use case, up to `cap`."""
    rows: list[Any] = []
    cursor = None
    while len(rows) < cap:
        page, cursor = fetch(cursor)
        rows.extend(page)
        if not cursor:
            break
    return rows[:cap]


def _day(stamp: str | None) -> str | None:
    return stamp[:10] if stamp else None


def per_day(rows: Iterable[Any], when: Callable[[Any], str | None],
            group: Callable[[Any], str]) -> tuple[list[str], list[Series]]:
    """Counts per day (every day from the first to the last, gaps as zero) and per group."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for row in rows:
        day = _day(when(row))
        if day:
            counts[group(row)][day] += 1
    days = sorted({d for c in counts.values() for d in c})
    if days:
        first, last = dt.date.fromisoformat(days[0]), dt.date.fromisoformat(days[-1])
        days = [(first + dt.timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]
    series = [Series(name, [float(counts[name][d]) for d in days]) for name in sorted(counts)]
    return days, series


# -- Runbook Performance ---------------------------------------------------------------------------
def performance(service: Any) -> Dashboard:
    def analytics_page(cursor: str | None) -> tuple[list[Any], str | None]:
        answer = service.runbook_analytics(AnalyticsRequest(cursor=cursor, limit=MAX_LIMIT))
        return answer.runbooks, answer.next_cursor

    rows = everything(analytics_page, 10_000)
    resolution = service.runbook_analytics(AnalyticsRequest(limit=1)).resolution_time
    used = sorted((r for r in rows if r["retrievals"] or r["executions"] or r["resolutions"]),
                  key=lambda r: (-(r["retrievals"] + r["executions"] + r["resolutions"]), r["id"]))[:TOP]
    rated = [r for r in used if r["execution_success_rate"] is not None]
    timed = [r for r in used if r["avg_resolution_seconds"] is not None]
    executions = recent_executions(service)
    days, by_outcome = per_day(executions, lambda e: e.created, lambda e: _outcome_group(e.outcome))
    charts = [
        Chart("usage", "Usage per runbook", "bar", [r["id"] for r in used],
              [Series("retrievals", [r["retrievals"] for r in used]),
               Series("executions", [r["executions"] for r in used]),
               Series("resolutions", [r["resolutions"] for r in used])],
              empty="No runbook has been retrieved, executed or credited with a resolution yet."),
        Chart("success", "Execution success rate per runbook", "bar", [r["id"] for r in rated],
              [Series("success rate", [round(100 * r["execution_success_rate"], 1) for r in rated])], unit="%",
              empty="No runbook execution has finished yet."),
        Chart("resolution", "Average resolution time per runbook", "bar", [r["id"] for r in timed],
              [Series("minutes", [round(r["avg_resolution_seconds"] / 60, 1) for r in timed])], unit="min",
              empty="No incident resolved with a runbook has a recorded duration yet."),
        with_without("with-without", "Resolution time with and without a runbook", resolution,
                     "No resolved incident has a recorded duration yet.",
                     f"{resolution.get('resolutions_with_runbook', 0)} resolutions with a runbook, "
                     f"{resolution.get('resolutions_without_runbook', 0)} without."),
        Chart("executions-over-time", "Executions per day, by outcome", "bar", days, by_outcome, stacked=True,
              empty="No execution has been recorded yet.", axis="day"),
    ]
    summary = [("runbooks with any use", str(len([r for r in rows if r["retrievals"] or r["executions"]]))),
               ("executions (newest shown)", str(len(executions))),
               ("stale runbooks", str(len([r for r in rows if r["stale"]])))]
    return Dashboard("performance", "Runbook Performance", summary, charts)


def with_without(chart_id: str, title: str, times: dict[str, Any], empty: str, note: str) -> Chart:
    """Average resolution time with and without a runbook, from an analytics `resolution_time` part."""
    minutes = [_minutes(times.get("with_runbook_avg_seconds")), _minutes(times.get("without_runbook_avg_seconds"))]
    return Chart(chart_id, title, "bar", ["with a runbook", "without a runbook"], [Series("minutes", minutes)],
                 unit="min", empty=empty, note=note, axis="resolved")


def _minutes(seconds: float | None) -> float | None:
    return round(seconds / 60, 1) if seconds is not None else None


def _outcome_group(outcome: str) -> str:
    if outcome == "ok":
        return "succeeded"
    if outcome in ("failed", "all_refused", "no_cluster", "interrupted"):
        return "failed"
    return "waiting or decided" if outcome in ("needs_approval", "rejected", "expired", "applying") else outcome


def recent_executions(service: Any) -> list[Any]:
    def page(cursor: str | None) -> tuple[list[Any], str | None]:
        answer = service.list_executions(ListExecutionsRequest(limit=100, cursor=cursor))
        return answer.executions, answer.next_cursor

    return everything(page, EXECUTIONS_READ)


# -- AI Learning Progress --------------------------------------------------------------------------
def learning(service: Any) -> Dashboard:
    first = service.patterns(PageRequest(limit=MAX_LIMIT))
    patterns = learning_patterns(service)
    ranked = sorted(patterns.items(), key=lambda kv: (-kv[1].get("frequency", 0), kv[0]))[:TOP]
    fixes = sorted(first.resolution_effectiveness.items(), key=lambda kv: (-kv[1].get("uses", 0), kv[0]))[:TOP]
    drafts = service.list_runbooks(status="draft")
    charts = [
        Chart("confidence", "Patterns and their confidence", "bar", [pid for pid, _ in ranked],
              [Series("confidence", [round(100 * (p.get("confidence") or 0), 1) for _, p in ranked])], unit="%",
              empty="No incident has been learned yet: `learn` or a resolved FaultMaven case starts a pattern.",
              axis="pattern"),
        Chart("frequency", "Incidents per pattern", "bar", [pid for pid, _ in ranked],
              [Series("incidents", [p.get("frequency", 0) for _, p in ranked]),
               Series("failed attempts", [p.get("failed_attempts", 0) for _, p in ranked])],
              empty="No incident has been learned yet.", axis="pattern"),
        Chart("fixes", "Fixes by success rate", "bar", [name for name, _ in fixes],
              [Series("success rate", [round(100 * (f.get("success_rate") or 0), 1) for _, f in fixes])], unit="%",
              empty="No fix of the patterns shown has been recorded yet.", axis="fix"),
    ]
    summary = [("incidents learned", str(first.total_incidents)), ("patterns", str(first.total_patterns)),
               ("drafts waiting for review", str(len(drafts)))]
    return Dashboard("learning", "AI Learning Progress", summary, charts)


# -- Storage Health --------------------------------------------------------------------------------
def _scale(sizes: list[int]) -> tuple[str, float]:
    """The unit (KB, MB or GB) that shows these byte counts as readable numbers."""
    largest = max(sizes, default=0)
    for unit, size in (("GB", 1024.0 ** 3), ("MB", 1024.0 ** 2)):
        if largest >= size:
            return unit, size
    return "KB", 1024.0


def storage(service: Any) -> Dashboard:
    usage = service.storage_usage()
    backups = sorted(service.list_backups().backups, key=lambda b: (b.created or "", b.name))
    parts = sorted(usage.storage.items())
    unit, size = _scale([d.bytes for _, d in parts])
    backup_unit, backup_size = _scale([b.bytes for b in backups])
    charts = [
        Chart("use", "Storage use", "bar", [name for name, _ in parts],
              [Series(unit, [round(d.bytes / size, 2) for _, d in parts])], unit=unit,
              empty="Nothing is stored yet.", axis="part"),
        Chart("backups", "Backup size over time", "line", [f"{(b.created or '')[:16]} {b.kind}" for b in backups],
              [Series(backup_unit, [round(b.bytes / backup_size, 2) for b in backups])], unit=backup_unit,
              empty="No backup yet: `faultmaven-runbooks backup` or POST /storage/backups makes one.", axis="backup"),
    ]
    summary = [(name, f"{d.files} files") for name, d in parts]
    if usage.disk is not None:
        gb = 1024.0 ** 3
        used = usage.disk.total_bytes - usage.disk.free_bytes
        charts.append(Chart("disk", "Disk of the data dir", "doughnut", ["used", "free"],
                            [Series("GB", [round(used / gb, 2), round(usage.disk.free_bytes / gb, 2)])], unit="GB",
                            axis="disk"))
        summary.append(("disk free", f"{100 * usage.disk.free_bytes / max(usage.disk.total_bytes, 1):.0f}%"))
    summary.append(("backups kept", str(len(backups))))
    return Dashboard("storage", "Storage Health", summary, charts)


# -- Incident Trends -------------------------------------------------------------------------------
def incidents(service: Any) -> Dashboard:
    alerts = recent_alerts(service)
    moments = [(a.first_seen, "fired") for a in alerts] + [(a.resolved_at, "resolved") for a in alerts if a.resolved_at]
    days, by_change = per_day(moments, lambda m: m[0], lambda m: m[1])
    times = service.runbook_analytics(AnalyticsRequest(limit=1)).resolution_time.get("alerts", {})
    learned = learning_patterns(service)
    types = Counter(t for p in learned.values() for t in p.get("incident_types", [])[:1])
    charts = [
        Chart("alerts", "Alerts per day: fired and resolved", "bar", days, by_change,
              empty="No alert has reached the Alertmanager or n8n webhook yet.", axis="day"),
        with_without("alert-resolution", "Alert resolution time with and without a runbook", times,
                     "No alert has resolved yet.",
                     f"{times.get('alerts_resolved_with_runbook', 0)} alerts resolved after a runbook's dry run, "
                     f"{times.get('alerts_resolved_without_runbook', 0)} without one."),
        Chart("incident-types", "Learned incidents by type", "bar", [t for t, _ in types.most_common(TOP)],
              [Series("patterns", [float(n) for _, n in types.most_common(TOP)])],
              empty="No incident has been learned yet.", axis="incident type"),
    ]
    firing = sum(1 for a in alerts if a.status == "firing")
    summary = [("alerts recorded (newest shown)", str(len(alerts))), ("firing now", str(firing)),
               ("resolved", str(len(alerts) - firing)), ("patterns", str(len(learned)))]
    notes = ["Alerts are the webhooks' triage records, one per alert (re-sends counted, not repeated): "
             f"the newest {ALERTS_READ} are charted by the day they fired and the day they resolved."]
    return Dashboard("incidents", "Incident Trends", summary, charts, notes)


def recent_alerts(service: Any) -> list[Any]:
    def page(cursor: str | None) -> tuple[list[Any], str | None]:
        answer = service.list_alerts(ListAlertsRequest(limit=MAX_LIMIT, cursor=cursor))
        return answer.alerts, answer.next_cursor

    return everything(page, ALERTS_READ)


def learning_patterns(service: Any) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    cursor = None
    while len(found) < 1000:
        answer = service.patterns(PageRequest(limit=MAX_LIMIT, cursor=cursor))
        found.update(answer.incident_patterns)
        cursor = answer.next_cursor
        if not cursor:
            break
    return found


DASHBOARDS: dict[str, tuple[str, Callable[[Any], Dashboard]]] = {
    "performance": ("Runbook Performance", performance), "learning": ("AI Learning Progress", learning),
    "storage": ("Storage Health", storage), "incidents": ("Incident Trends", incidents),
}
