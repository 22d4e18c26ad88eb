"""Learning statistics: what an incident adds to its pattern and to the shared counters
(resolutions, per-runbook outcomes, resolutions without a runbook), and their summaries.

The pattern's own statistics live in its record (saved under a revision); the shared counters
are atomic increments in the state store (storage/outcomes.py, storage/usage.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import InvalidInput

_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600, "d": 86400}


def parse_duration(value: object) -> float | None:
    """'5m', '1h30m', '90s', 'PT5M', '00:05:00' or a number of seconds -> seconds."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise InvalidInput("duration must be a number of seconds or text like '5m' or '1h30m'")
    if isinstance(value, (int, float)):
        if value < 0:
            raise InvalidInput("duration must not be negative")
        return float(value)
    text = str(value).strip().lower().removeprefix("pt")
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    if m := re.fullmatch(r"(\d+):(\d{2}):(\d{2})", text):
        return int(m[1]) * 3600 + int(m[2]) * 60 + int(m[3])
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*(sec|min|hr|[smhd])", text)
    if parts and re.fullmatch(r"(\s*\d+(?:\.\d+)?\s*(sec|min|hr|[smhd])\s*)+", text):
        return sum(float(n) * _UNITS[u] for n, u in parts)
    raise InvalidInput(f"duration {value!r} is not understood; use seconds or text like '5m', '1h30m', '90s'")


def format_duration(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, sec = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m" if sec < 30 or minutes >= 10 else f"{minutes}m{sec}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes}m" if minutes else f"{hours}h"


def _bump(counter: dict, key: str, by: int = 1) -> None:
    counter[key] = counter.get(key, 0) + by
    if counter[key] <= 0:
        del counter[key]  # a retracted outcome leaves no zero rows behind


# Every count_* takes a sign: +1 counts an outcome, -1 takes a re-sent incident's earlier
# outcome back out, so learning the same incident twice counts it once.

@dataclass
class Counts:
    """What one `learn` adds to the shared counters (or, for a re-sent incident, takes back):
    applied as atomic increments in the learn's transaction, so learns on any number of
    replicas never lose one another's counts."""

    resolutions: dict[str, dict] = field(default_factory=dict)
    runbooks: dict[str, dict] = field(default_factory=dict)
    unassisted: dict = field(default_factory=lambda: {"resolutions": 0, "seconds_total": 0.0, "timed": 0})

    def resolution(self, name: str, success: bool, seconds: float | None, side_effects: list[str],
                   sign: int) -> None:
        r = self.resolutions.setdefault(name, {"uses": 0, "successes": 0, "failures": 0, "seconds_total": 0.0,
                                               "timed": 0, "side_effects": {}})
        r["uses"] += sign
        r["successes" if success else "failures"] += sign
        if seconds is not None and success:
            r["seconds_total"] += sign * seconds
            r["timed"] += sign
        for effect in side_effects:
            r["side_effects"][effect] = r["side_effects"].get(effect, 0) + sign

    def runbook(self, runbook_id: str, success: bool, seconds: float | None, sign: int) -> None:
        rb = self.runbooks.setdefault(runbook_id, {"uses": 0, "resolved": 0, "failed": 0, "seconds_total": 0.0,
                                                   "timed": 0})
        rb["uses"] += sign
        rb["resolved" if success else "failed"] += sign
        if seconds is not None and success:
            rb["seconds_total"] += sign * seconds
            rb["timed"] += sign

    def without_runbook(self, success: bool, seconds: float | None, sign: int) -> None:
        """A resolution reached without any runbook: the baseline runbook_analytics compares with."""
        if not success:
            return
        self.unassisted["resolutions"] += sign
        if seconds is not None:
            self.unassisted["seconds_total"] += sign * seconds
            self.unassisted["timed"] += sign

    def apply(self, tx) -> None:
        """Add the non-zero deltas, in one order on every replica (no lock-order deadlocks)."""
        for name, r in sorted(self.resolutions.items()):
            effects = {e: n for e, n in r["side_effects"].items() if n}
            if effects or any(r[k] for k in ("uses", "successes", "failures", "seconds_total", "timed")):
                tx.outcomes.add_resolution(name, **{**r, "side_effects": effects})
        for runbook_id, rb in sorted(self.runbooks.items()):
            if any(rb.values()):
                tx.outcomes.add_runbook(runbook_id, **rb)
        if any(self.unassisted.values()):
            tx.usage.add_unassisted(**self.unassisted)


def record_pattern(pattern: dict, incident: dict, success: bool, seconds: float | None, now: str,
                   sign: int = 1) -> None:
    pattern["successes" if success else "failures"] += sign
    if seconds is not None and success:
        pattern["seconds_total"] += sign * seconds
        pattern["timed"] += sign
    _bump(pattern["types"], str(incident.get("type") or "unknown"), sign)
    for d in incident.get("diagnosis") or []:
        _bump(pattern["diagnoses"], str(d), sign)
    for t in [*(incident.get("symptoms") or []), *(incident.get("triggers") or [])]:
        _bump(pattern["triggers"], str(t), sign)
    for r in incident.get("resolution") or []:
        sol = pattern["solutions"].setdefault(str(r), {"uses": 0, "successes": 0})
        sol["uses"] += sign
        sol["successes"] += sign if success else 0
        if sol["uses"] <= 0:
            del pattern["solutions"][str(r)]
    if sign > 0:
        pattern["last_seen"] = now


def outcome_of(incident: dict, success: bool, seconds: float | None, credited: str | None) -> dict:
    """What one incident adds to the statistics; kept per incident id so it can be taken back."""
    return {"success": success, "seconds": seconds, "credited": credited,
            "type": incident.get("type"), "diagnosis": incident.get("diagnosis") or [],
            "symptoms": incident.get("symptoms") or [], "triggers": incident.get("triggers") or [],
            "resolution": incident.get("resolution") or [], "id": incident.get("id"),
            "side_effects": {name: _side_effects(incident, name) for name in incident.get("resolution") or []}}


def count_outcome(counts: Counts, pattern: dict, outcome: dict, stamp: str, sign: int) -> None:
    """Add (sign +1) or take back (sign -1) one incident's outcome everywhere it counts."""
    success, seconds, credited = outcome["success"], outcome["seconds"], outcome["credited"]
    record_pattern(pattern, outcome, success, seconds, stamp, sign)
    for name in outcome["resolution"]:
        counts.resolution(name, success, seconds, outcome["side_effects"].get(name, []), sign)
    if credited:
        counts.runbook(credited, success, seconds, sign)
        linked = pattern["linked_runbooks"]
        linked[credited] = linked.get(credited, 0) + sign
        if linked[credited] <= 0:
            del linked[credited]
    else:
        counts.without_runbook(success, seconds, sign)


def _side_effects(incident: dict, resolution: str) -> list[str]:
    effects = incident.get("side_effects")
    if isinstance(effects, dict):
        return [str(e) for e in effects.get(resolution) or []]
    return [str(e) for e in effects or []]


def success_rate(successes: int, total: int) -> float | None:
    return round(successes / total, 3) if total else None


def ranked_solutions(pattern: dict) -> list[tuple[str, dict]]:
    """Best first: smoothed success rate, then how often it was used."""
    return sorted(pattern["solutions"].items(),
                  key=lambda kv: (-(kv[1]["successes"] + 1) / (kv[1]["uses"] + 2), -kv[1]["uses"], kv[0]))


def pattern_summary(pattern: dict) -> dict:
    total = pattern["successes"] + pattern["failures"]
    avg = pattern["seconds_total"] / pattern["timed"] if pattern["timed"] else None
    good = [name for name, s in ranked_solutions(pattern) if s["successes"]]
    failed = [name for name, s in pattern["solutions"].items() if s["uses"] and not s["successes"]]
    return {
        "frequency": total, "avg_resolution_time": format_duration(avg),
        "avg_resolution_seconds": round(avg, 1) if avg is not None else None,
        "success_rate": success_rate(pattern["successes"], total), "failed_attempts": pattern["failures"],
        "common_solutions": good[:5], "failed_solutions": sorted(failed)[:5],
        "triggers": [t for t, _ in sorted(pattern["triggers"].items(), key=lambda kv: (-kv[1], kv[0]))][:5],
        "diagnoses": [d for d, _ in sorted(pattern["diagnoses"].items(), key=lambda kv: (-kv[1], kv[0]))][:5],
        "incident_types": sorted(pattern["types"], key=lambda t: -pattern["types"][t])[:5],
        "context": {k: max(v, key=v.get) for k, v in pattern["context"].items() if v},
        "runbook_id": pattern["runbook_id"], "last_seen": pattern["last_seen"],
    }


def resolution_summary(r: dict) -> dict:
    avg = r["seconds_total"] / r["timed"] if r["timed"] else None
    return {"success_rate": success_rate(r["successes"], r["uses"]), "avg_time": format_duration(avg),
            "uses": r["uses"], "failures": r["failures"],
            "side_effects": sorted(r["side_effects"], key=lambda e: -r["side_effects"][e])}


def runbook_summary(rb: dict) -> dict:
    return {"uses": rb["uses"], "resolved": rb["resolved"], "failed": rb["failed"],
            "success_rate": success_rate(rb["resolved"], rb["uses"]),
            "avg_resolution_seconds": round(rb["seconds_total"] / rb["timed"], 1) if rb["timed"] else None}
