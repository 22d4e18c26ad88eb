"""Recommendations from what the pattern's history shows, plus monitoring advice by symptom."""

from __future__ import annotations

import re

from .patterns import words
from .stats import format_duration, ranked_solutions

_MONITORING = [
    (r"memory|oom", "Add proactive monitoring for memory usage (alert at 80% of the container limit)"),
    (r"cpu|throttl", "Alert on CPU throttling and saturation before it reaches the limit"),
    (r"disk|volume|inode|space", "Alert on filesystem usage and growth rate, not only on full disks"),
    (r"crash|restart|backoff", "Alert on container restart count increasing within 15 minutes"),
    (r"latency|slow|timeout", "Track p99 latency and timeouts per dependency with an SLO alert"),
    (r"connection|refused|network|dns", "Add a synthetic check for the failing connection path"),
    (r"certificate|tls|x509", "Alert on certificate expiry 30 days ahead"),
    (r"image|pull", "Check image availability in CI before rollout"),
    (r"replica|lag", "Alert on replication lag against an explicit threshold"),
]


def recommendations(pattern: dict, incident: dict, success: bool, credited: str | None,
                    recurrence_min: int) -> list[str]:
    recs: list[str] = []
    used = set(incident.get("resolution") or [])
    ranked = [(n, s) for n, s in ranked_solutions(pattern) if s["uses"] >= 2 and s["successes"] / s["uses"] >= 0.5]
    if ranked and (not success or ranked[0][0] not in used):
        name, s = ranked[0]
        avg = format_duration(pattern["seconds_total"] / pattern["timed"]) if pattern["timed"] else None
        recs.append(f"Try '{words(name)}' first: it resolved {s['successes']} of {s['uses']} similar incidents"
                    + (f" (typical resolution {avg})" if avg else ""))
    for name, s in pattern["solutions"].items():
        if s["uses"] >= 2 and s["successes"] / s["uses"] < 0.34:
            recs.append(f"Avoid relying on '{words(name)}': it failed in {s['uses'] - s['successes']} of "
                        f"{s['uses']} similar incidents")
    if credited:
        recs.append(f"Keep runbook '{credited}' current: this outcome was credited to it")
    elif pattern.get("runbook_id"):
        recs.append(f"Next time follow runbook '{pattern['runbook_id']}' for this pattern")
    members = pattern.get("members", 0)
    if members >= recurrence_min:
        recs.append(f"This pattern has recurred {members} times: plan a permanent fix instead of repeating "
                    "the remediation")
    text = " ".join(words(x) for x in [incident.get("type"), *(incident.get("symptoms") or []),
                                       *(incident.get("diagnosis") or [])]).lower()
    recs += [advice for rx, advice in _MONITORING if re.search(rx, text)][:2]
    if not success:
        recs.append("The resolution did not work: record what was tried and escalate with the diagnosis so far")
    return list(dict.fromkeys(recs))
