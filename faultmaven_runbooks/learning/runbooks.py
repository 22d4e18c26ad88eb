"""What `learn` writes: dynamic runbooks in the specification's incident structure.

New incident types get dynamic/incidents/<date>-<slug>.md; recurring patterns get
dynamic/patterns/<pattern-id>.md, rewritten as their statistics change until a person takes
the runbook over (edits `generated_by` away or marks it anything but draft). The library
writer numbers the versions, dates them and keeps the one each rewrite replaces.
"""

from __future__ import annotations

import datetime as dt

from ..library.markdown import slugify
from ..library.render import Markdown, bullets, fence, numbered, one_line
from ..library.store import RunbookLibrary
from ..library.writer import WriteSession
from .patterns import words
from .stats import format_duration, pattern_summary, ranked_solutions

GENERATOR = "learn"
NONE = "None recorded."


def _line(text: object) -> str:
    return one_line(words(text) if not isinstance(text, str) else text)


def _commands(steps: list) -> list[str]:
    return [str(s["command"]).strip() for s in steps if isinstance(s, dict) and s.get("command")]


def _step_text(step) -> str:
    if isinstance(step, dict):
        return str(step.get("description") or step.get("action") or step.get("command") or "")
    return str(step)


def incident_runbook(rid: str, incident: dict, context: dict, pattern: dict, conf: float,
                     recommendations: list[str], seconds: float | None, now: dt.datetime,
                     similar: list[str]) -> Markdown:
    """`similar`: the pattern's latest incident ids, oldest first, this one included."""
    success = bool(incident.get("success"))
    severity = str(incident.get("severity") or context.get("severity") or "medium").lower()
    symptoms = incident.get("symptoms") or []
    meta = {"id": rid, "title": f"Incident: {_line(incident.get('type'))}", "type": "dynamic",
            "severity": severity, "tags": ["learned", "incident", slugify(words(incident.get("type")))],
            "service": incident.get("service") or context.get("service"), "status": "draft",
            "version": 1, "created": now.date().isoformat(), "last_updated": now.date().isoformat(),
            "generated_by": GENERATOR, "pattern_id": pattern["id"], "confidence": conf,
            "incident_id": incident.get("id"), "summary": f"{_line(incident.get('type'))}: "
            f"{_line(symptoms[:3]) or _line(incident.get('diagnosis', [])[:2])}"}
    resolution = [_step_text(s) for s in incident.get("steps_taken") or []] or incident.get("resolution") or []
    commands = _commands(incident.get("steps_taken") or []) if success else []
    outcome = "resolved the incident" if success else "did NOT resolve the incident"
    body = [
        f"# Incident: {_line(incident.get('id') or rid)} - {_line(incident.get('type'))}\n",
        f"**Date**: {now.isoformat(timespec='seconds')}  \n**Severity**: {severity.capitalize()}  \n"
        f"**Duration**: {format_duration(seconds) or 'unknown'}\n",
        "## Incident Details\n",
        f"- **Trigger**: {_line(incident.get('trigger') or incident.get('type'))}\n"
        f"- **Symptoms**: {_line(symptoms) or 'not recorded'}\n"
        f"- **Impact**: {_line(incident.get('impact') or context.get('namespace') or 'not recorded')}\n",
        "## Diagnosis Process\n", numbered(map(_line, incident.get("diagnosis") or []), NONE) + "\n",
        "## Resolution Steps\n", f"These steps {outcome}.\n", numbered(map(_line, resolution), NONE) + "\n",
    ]
    if commands:
        body.append(fence(commands) + "\n")
    body += ["## Lessons Learned\n", bullets([*(incident.get("lessons") or []), *recommendations], NONE) + "\n",
             "## AI Insights\n", f"- **Pattern**: {pattern['id']}\n- **Confidence**: {conf:.2f}\n"
             f"- **Similar Incidents**: {', '.join(similar[-5:]) or 'none yet'}\n"]
    return Markdown(meta, "\n".join(body))


def pattern_runbook(rid: str, pattern: dict, conf: float, recommendations: list[str], now: dt.datetime,
                    similar: list[str]) -> Markdown:
    """`similar`: the pattern's latest incident ids, oldest first."""
    s = pattern_summary(pattern)
    label = _line(pattern["name"]) + (f" ({s['context']['pod_type']})" if s["context"].get("pod_type") else "")
    meta = {"id": rid, "title": f"Pattern: {label}", "type": "dynamic", "severity": "medium",
            "tags": ["learned", "pattern", pattern["id"]], "service": s["context"].get("service"),
            "status": "draft", "version": 1, "created": now.date().isoformat(),
            "last_updated": now.date().isoformat(), "generated_by": GENERATOR, "pattern_id": pattern["id"],
            "confidence": conf, "summary": f"Recurring {label}: seen {s['frequency']} times, "
            f"resolved {round((s['success_rate'] or 0) * 100)}% of the time"}
    steps = []
    for name, sol in ranked_solutions(pattern):
        if sol["successes"]:
            steps.append(f"{words(name)} (resolved {sol['successes']} of {sol['uses']} incidents)")
    failed = [f"{words(n)} (failed {x['uses'] - x['successes']} of {x['uses']})"
              for n, x in pattern["solutions"].items() if x["uses"] > x["successes"]]
    body = [
        f"# Pattern: {label}\n",
        f"**Date**: {now.isoformat(timespec='seconds')}  \n**Severity**: Medium  \n"
        f"**Duration**: {s['avg_resolution_time'] or 'unknown'} on average\n",
        "## Incident Details\n",
        f"- **Trigger**: {_line(s['incident_types']) or 'not recorded'}\n"
        f"- **Symptoms**: {_line(s['triggers']) or 'not recorded'}\n"
        f"- **Impact**: {s['frequency']} incidents, {s['failed_attempts']} failed resolution attempts\n",
        "## Diagnosis Process\n", numbered(map(_line, s["diagnoses"]), NONE) + "\n",
        "## Resolution Steps\n", numbered(steps, "No resolution has worked yet.") + "\n",
    ]
    if failed:
        body.append("Tried without success:\n" + bullets(failed, NONE) + "\n")
    body += ["## Lessons Learned\n", bullets(recommendations, NONE) + "\n",
             "## AI Insights\n", f"- **Pattern**: {pattern['id']}\n- **Confidence**: {conf:.2f}\n"
             f"- **Similar Incidents**: {', '.join(similar[-10:]) or 'not recorded'}\n"]
    return Markdown(meta, "\n".join(body))


def machine_owned(meta: dict) -> bool:
    """Still ours to rewrite: generated by learn and not yet taken over by a person."""
    return meta.get("generated_by") == GENERATOR and str(meta.get("status", "draft")) == "draft"


class LearnedRunbooks:
    """The dynamic runbook one learn warrants, written in its session."""

    def __init__(self, session: WriteSession, library: RunbookLibrary, now: dt.datetime, similar: list[str],
                 recurring: int):
        self.session, self.library, self.now, self.similar = session, library, now, similar
        self.recurring = recurring  # incidents a pattern needs before it gets a runbook of its own

    def write(self, pattern: dict, incident: dict, context: dict, detected: bool, conf: float, recs: list[str],
              seconds: float | None, record: dict) -> tuple[bool, str | None]:
        """(created?, runbook id); `record` learns which runbook is the incident's own."""
        session, now, similar = self.session, self.now, self.similar
        own = record.get("incident_runbook")
        if own and self.library.path_of(own) is None:
            self.library.scan()
        if own and self.library.path_of(own) is not None:
            # A re-sent incident updates the runbook it wrote, unless a person took it over.
            session.update(own, lambda meta, _body: incident_runbook(
                own, incident, context, pattern, conf, recs, seconds, now, similar) if machine_owned(meta) else None)
            return False, own
        if not detected:
            base = slugify(f"{now.date().isoformat()}-{words(incident.get('type'))}")[:70].strip("-")
            written = session.create(f"incident-{base}", "dynamic/incidents", lambda rid: incident_runbook(
                rid, incident, context, pattern, conf, recs, seconds, now, similar), stem=base)
            pattern["incident_runbooks"] = (pattern["incident_runbooks"] + [written.id])[-5:]
            record.update(incident_runbook=written.id, incident_runbook_path=written.path)
            return True, written.id
        if pattern["members"] < self.recurring:
            return False, None
        rid = pattern["runbook_id"]
        if rid is not None and self.library.path_of(rid) is None:
            self.library.scan()
        if rid is not None and self.library.path_of(rid) is not None:
            session.update(rid, lambda meta, _body: pattern_runbook(
                rid, pattern, conf, recs, now, similar) if machine_owned(meta) else None)
            return False, rid
        # First time recurring (or a person deleted its runbook): a runbook of its own.
        written = session.create(f"pattern-{pattern['id']}", "dynamic/patterns", lambda new_id: pattern_runbook(
            new_id, pattern, conf, recs, now, similar), stem=pattern["id"])
        pattern["runbook_id"], pattern["runbook_path"] = written.id, written.path
        return True, written.id
