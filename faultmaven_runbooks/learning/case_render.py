"""`CaseFacts` -> runbook markdown in the specification's five parts (library/render.py's
building blocks; the library writer writes it).

Problem Summary, Diagnosis Steps (blast radius, timeline, hypotheses with the validated one
marked and refuted ones ruled out, validation), Root Cause, Solution (only applied or accepted
fixes as the fix, with their exact commands; long-term fix, verification, rollback) and
Prevention (monitoring, automation, process).
"""

from __future__ import annotations

import datetime as dt
import re

from ..library.markdown import normalize_severity
from ..library.render import Markdown, bullets, fence, one_line
from .cases import CaseFacts, Fix

# FaultMaven's symptom classes, recognised from words in the case (first match wins per class).
_SYMPTOM_WORDS = {
    "oom": r"\boom|out of memory|memory limit", "crash_loop": r"crashloop|crash loop|restarting",
    "connection_refused": r"connection refused", "timeout": r"time ?out|timed out",
    "latency": r"latency|slow", "disk_full": r"disk (is )?full|no space left|disk pressure",
    "image_pull_failure": r"imagepull|image pull|errimagepull", "auth_failure": r"unauthori|auth|403|401",
    "replication_lag": r"replication lag|replica lag", "cpu_saturation": r"cpu (saturation|throttl|100)",
    "scheduling_failure": r"unschedulable|failedscheduling|pending pod", "node_failure": r"node ?not ?ready",
    "deployment_failure": r"rollout|deployment fail", "service_unavailable": r"\b503\b|unavailable",
}
_DOMAIN_WORDS = {
    "database": r"postgres|mysql|redis|database|mongo|replica", "networking": r"dns|network|ingress|tls|certificate",
    "messaging": r"kafka|rabbit|queue|nats", "storage": r"disk|volume|pvc|storage",
    "security": r"rbac|auth|secret|permission", "compute": r"pod|node|container|oom|cpu|memory",
}
_AUTOMATION = re.compile(
    r"automat|script|\balert|\bci\b|pipeline|\bchecks?\b|\btests?\b|lint|admission|\blimits?\b", re.I)


def classify(facts: CaseFacts) -> tuple[str | None, list[str]]:
    text = " ".join([facts.title, facts.problem, *facts.symptoms, facts.root_cause]).lower()
    classes = [name for name, rx in _SYMPTOM_WORDS.items() if re.search(rx, text)]
    domain = next((name for name, rx in _DOMAIN_WORDS.items() if re.search(rx, text)), None)
    return domain, classes


def front_matter(facts: CaseFacts, runbook_id: str, today: str) -> dict:
    domain, classes = classify(facts)
    tags = list(dict.fromkeys([*(t.lower() for t in facts.tags), *classes, "faultmaven-case"]))
    return {
        "id": runbook_id, "title": facts.title, "type": "dynamic",
        "severity": normalize_severity(facts.severity), "tags": tags, "service": facts.service,
        "domain": domain, "symptom_class": classes, "status": "draft", "version": 1,
        "created": today, "last_updated": today, "source_case": facts.case_id or None,
        "generated_by": "create_runbook_from_case", "summary": one_line(facts.problem)[:300],
        "average_resolution_seconds": round(facts.resolution_seconds) if facts.resolution_seconds else None,
    }


def render_case_runbook(facts: CaseFacts, runbook_id: str, now: dt.datetime) -> Markdown:
    today = now.date().isoformat()
    parts = [f"# Runbook: {facts.title}\n",
             f"**Created**: {today}  \n**Status**: draft (generated from FaultMaven case "
             f"{facts.case_id or 'n/a'}; a person must review and mark it verified)\n",
             _problem(facts), _diagnosis(facts), _root_cause(facts), _solution(facts), _prevention(facts)]
    return Markdown(front_matter(facts, runbook_id, today), "\n".join(p.rstrip() + "\n" for p in parts if p))


def _problem(f: CaseFacts) -> str:
    out = ["## Problem Summary\n", one_line(f.problem) + "\n"]
    if f.symptoms:
        out.append("**Symptoms**:\n" + bullets(f.symptoms) + "\n")
    if f.affected_services:
        out.append("**Affected Systems**:\n" + bullets(f.affected_services) + "\n")
    sev = normalize_severity(f.severity).capitalize()
    out.append(f"**Severity**: {sev}" + (f" ({one_line(f.impact)})" if f.impact else "") + "\n")
    return "\n".join(out)


def _diagnosis(f: CaseFacts) -> str:
    blast = [f"Affected services: {', '.join(f.affected_services)}" if f.affected_services else "",
             f"User impact: {one_line(f.impact)}" if f.impact else ""]
    timeline = [f"Problem started: {f.started_at}" if f.started_at else "",
                f"Noticed: {f.noticed_at}" if f.noticed_at else ""]
    timeline += [f"Recent change: {c}" for c in f.recent_changes]
    hyp_lines = []
    considered = [h for h in f.hypotheses if h.state != "refuted"]
    for n, h in enumerate(considered, 1):
        mark = " (VALIDATED ✓)" if h.state == "validated" else ""
        like = f" — likelihood {h.likelihood}" if h.likelihood and not mark else ""
        hyp_lines.append(f"- **Theory {n}**: {one_line(h.statement)}{mark}{like}")
    ruled_out = [h for h in f.hypotheses if h.state == "refuted"]
    if ruled_out:
        hyp_lines.append("\n**Ruled out**:")
        hyp_lines += [f"- ~~{one_line(h.statement)}~~" + (f" — {one_line(h.reason)}" if h.reason else "")
                      for h in ruled_out]
    validation = [f"- {one_line(t)}" for t in f.tests_performed]
    for summary, extract in f.evidence:
        validation.append(f"- {one_line(summary)}")
        if extract:
            validation.append(fence(extract.splitlines(), "text"))
    return "\n".join([
        "## Diagnosis Steps\n",
        "### 1. Blast Radius Assessment\n", bullets([b for b in blast if b], "Not recorded in the case.") + "\n",
        "### 2. Timeline Analysis\n", bullets([t for t in timeline if t], "Not recorded in the case.") + "\n",
        "### 3. Hypothesis Formation\n", ("\n".join(hyp_lines) or "- Not recorded in the case.") + "\n",
        "### 4. Validation\n", ("\n".join(validation) or "- Not recorded in the case.") + "\n",
    ])


def _root_cause(f: CaseFacts) -> str:
    out = ["## Root Cause\n", (one_line(f.root_cause) or "Not recorded in the case.") + "\n"]
    if f.mechanism:
        out.append(f"**Mechanism**: {one_line(f.mechanism)}\n")
    if f.evidence:
        out.append("**Evidence**:\n" + bullets([s for s, _ in f.evidence]) + "\n")
    if f.contributing_factors:
        out.append("**Contributing Factors**:\n" + bullets(f.contributing_factors) + "\n")
    if f.confidence:
        out.append(f"**Confidence**: {f.confidence}\n")
    return "\n".join(out)


def _fix_block(fix: Fix) -> str:
    label = "applied" if fix.applied else "proposed, not confirmed as applied"
    out = [f"**{one_line(fix.title) or 'Fix'}** ({label})\n"]
    if fix.immediate and fix.immediate != fix.title:
        out.append(one_line(fix.immediate) + "\n")
    if fix.steps:
        out.append("\n".join(f"{n}. {one_line(s)}" for n, s in enumerate(fix.steps, 1)) + "\n")
    if fix.commands:
        out.append(fence(fix.commands) + "\n")
    if fix.risks:
        out.append("**Risks**:\n" + bullets(fix.risks) + "\n")
    return "\n".join(out)


def _solution(f: CaseFacts) -> str:
    applied = [x for x in f.fixes if x.applied]
    # Unconfirmed fixes stand in as the fix only when nothing was confirmed applied.
    main = applied or f.fixes
    others = [x for x in f.fixes if x not in main]
    out = ["## Solution\n", "### Immediate Fix\n"]
    out.append("\n".join(_fix_block(x) for x in main) if main else "No applied fix was recorded in the case.\n")
    longterm = [x.longterm for x in main if x.longterm]
    out += ["### Long-term Fix\n", bullets(longterm, "Not recorded in the case.") + "\n"]
    verify = [x.verification for x in main if x.verification]
    out += ["### Verification\n", bullets(verify, "Confirm the symptoms above are gone.") + "\n"]
    rollback = [x.rollback for x in main if x.rollback]
    out += ["### Rollback\n", bullets(rollback, "No rollback was recorded: capture the current state of "
                                                 "every object the fix changes before applying it.") + "\n"]
    if others:
        out += ["### Other Options Considered (not applied)\n", bullets([x.title for x in others]) + "\n"]
    return "\n".join(out)


def _prevention(f: CaseFacts) -> str:
    automation = [p for p in f.preventive if _AUTOMATION.search(p)]
    process = [p for p in f.preventive if p not in automation] + f.lessons
    return "\n".join([
        "## Prevention\n",
        "### Monitoring\n", bullets(f.monitoring, "Add an alert on the symptoms above.") + "\n",
        "### Automation\n", bullets(automation, "None recorded.") + "\n",
        "### Process\n", bullets(process, "None recorded.") + "\n",
    ])
