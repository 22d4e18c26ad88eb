"""FaultMaven case JSON (model generations 1-3) -> one normalised `CaseFacts`.

FaultMaven's case model changed three times (see shared/spec/faultmaven-case.md); a client may
send any generation, so every field is read by all of its known names and may be missing.
Rendering lives in cases_render.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..clock import parse_time
from ..errors import InvalidInput

RESOLVED_STATES = {"resolved", "solved"}


@dataclass
class Hypothesis:
    statement: str
    state: str  # validated | refuted | other (active, inconclusive, retired, captured...)
    likelihood: str = ""
    reason: str = ""


@dataclass
class Fix:
    title: str
    applied: bool | None  # True applied/accepted, None unknown (proposed); rejected fixes are dropped
    solution_type: str = ""
    immediate: str = ""
    longterm: str = ""
    steps: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    verification: str = ""
    risks: list[str] = field(default_factory=list)
    rollback: str = ""


@dataclass
class CaseFacts:
    case_id: str
    title: str
    generation: int
    problem: str
    symptoms: list[str] = field(default_factory=list)
    affected_services: list[str] = field(default_factory=list)
    severity: str = "medium"
    impact: str = ""
    started_at: str = ""
    noticed_at: str = ""
    resolved_at: str = ""
    recent_changes: list[str] = field(default_factory=list)
    hypotheses: list[Hypothesis] = field(default_factory=list)
    evidence: list[tuple[str, str]] = field(default_factory=list)  # (summary, verbatim extract)
    tests_performed: list[str] = field(default_factory=list)
    root_cause: str = ""
    mechanism: str = ""
    confidence: str = ""
    contributing_factors: list[str] = field(default_factory=list)
    fixes: list[Fix] = field(default_factory=list)
    lessons: list[str] = field(default_factory=list)
    preventive: list[str] = field(default_factory=list)
    monitoring: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    runbook_used: str | None = None
    resolution_seconds: float | None = None

    @property
    def service(self) -> str | None:
        return self.affected_services[0] if self.affected_services else None

    def search_text(self) -> str:
        """What a later responder would type: the title, the symptom and its indicators."""
        return " ".join([self.title, self.problem, *self.symptoms[:5]]).strip()


def _d(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def _s(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "; ".join(_s(v) for v in value if _s(v))
    if isinstance(value, dict):
        return _s(value.get("description") or value.get("text") or value.get("summary") or "")
    return str(value).strip()


def _strs(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return [t for t in (_s(v) for v in value) if t]
    return [_s(value)]


def _list(value: object) -> list:
    return value if isinstance(value, list) else []


def _first(*values: object) -> object:
    for v in values:
        if v not in (None, "", [], {}):
            return v
    return None


def generation(case: dict) -> int:
    if "diagnostic_state" in case:
        return 1
    if "state" in case:
        return 3
    return 2


def is_resolved(case: dict) -> tuple[bool, str]:
    """(resolved?, the lifecycle value that decided it)."""
    ds = _d(case.get("diagnostic_state"))
    status = str(case.get("state") or case.get("status") or "").lower()
    if status in RESOLVED_STATES or ds.get("case_resolved") is True:
        return True, status or "case_resolved"
    # A closed case counts only when it was closed because it was resolved, not abandoned.
    if status == "closed" and (str(case.get("closure_reason") or "").lower() == "resolved"
                               or (case.get("resolved_at") and not case.get("closure_reason"))):
        return True, status
    return False, status or "missing"


def parse_case(case: object) -> CaseFacts:
    if not isinstance(case, dict):
        raise InvalidInput("case must be a JSON object (a FaultMaven case), not "
                           f"{type(case).__name__}")
    resolved, status = is_resolved(case)
    if not resolved:
        raise InvalidInput(
            f"case {case.get('case_id') or case.get('id') or '?'} is not resolved (state {status!r}); "
            "only resolved cases become runbooks: resolve the case first")
    gen = generation(case)
    facts = _parse_gen1(case) if gen == 1 else _parse_gen23(case, gen)
    if not facts.problem and not facts.title:
        raise InvalidInput("case has neither a title nor a symptom statement / problem statement; "
                           "add problem_verification.symptom_statement")
    facts.title = facts.title or facts.problem[:80]
    facts.problem = facts.problem or facts.title
    meta = _d(case.get("metadata"))
    facts.runbook_used = _s(_first(case.get("runbook_used"), case.get("runbook_id"),
                                   case.get("applied_runbook_id"), meta.get("runbook_used"),
                                   meta.get("runbook_id"))) or None
    facts.tags = _strs(case.get("tags")) or _strs(meta.get("tags"))
    sev = _s(_first(facts.severity, meta.get("severity"), case.get("priority"))).lower()
    facts.severity = {"p1": "critical", "urgent": "critical", "p2": "high", "p3": "medium",
                      "normal": "medium", "p4": "low"}.get(sev, sev) or "medium"
    return facts


def _hyp_state(h: dict) -> str:
    state = str(h.get("state") or h.get("status") or "").lower()
    if h.get("validated") is True or state in {"validated", "confirmed"}:
        return "validated"
    if h.get("validated") is False or state in {"refuted", "rejected", "ruled_out"}:
        return "refuted"
    return state or "considered"


def _parse_gen23(case: dict, gen: int) -> CaseFacts:
    pv = _d(case.get("problem_verification"))
    rc = _d(case.get("root_cause_conclusion"))
    doc = _d(case.get("documentation"))
    meta = _d(case.get("metadata"))
    changes = []
    for c in pv.get("recent_changes") or []:
        c = _d(c) or {"description": _s(c)}
        kind = f"[{c['change_type']}] " if c.get("change_type") else ""
        when = f" ({c['occurred_at']})" if c.get("occurred_at") else ""
        changes.append(f"{kind}{_s(c.get('description'))}{when}")
    for corr in pv.get("correlations") or []:
        corr = _d(corr)
        if corr.get("change_description"):
            changes.append(f"correlated: {_s(corr.get('change_description'))} "
                           f"{_s(corr.get('timing_description'))}".strip())
    hyps_raw = case.get("hypotheses") or {}
    hyps_iter = hyps_raw.values() if isinstance(hyps_raw, dict) else hyps_raw
    hyps = [Hypothesis(_s(h.get("statement") or h.get("hypothesis")), _hyp_state(h),
                       _s(h.get("likelihood")), _s(h.get("refutation_reason") or h.get("rationale")))
            for h in map(_d, hyps_iter) if _s(h.get("statement") or h.get("hypothesis"))]
    validated_id = rc.get("validated_hypothesis_id")
    if validated_id and isinstance(hyps_raw, dict) and validated_id in hyps_raw:
        statement = _s(_d(hyps_raw[validated_id]).get("statement"))
        for h in hyps:
            if h.statement == statement and h.state != "refuted":
                h.state = "validated"
    evidence = [(_s(e.get("summary")), _s(e.get("extract"))) for e in map(_d, case.get("evidence") or [])
                if _s(e.get("summary"))][:10]
    facts = CaseFacts(
        case_id=_s(case.get("case_id") or case.get("id")), title=_s(case.get("title")), generation=gen,
        problem=_s(_first(pv.get("symptom_statement"), case.get("description"))),
        symptoms=_strs(pv.get("symptom_indicators")),
        affected_services=_strs(pv.get("affected_services")),
        severity=_s(_first(pv.get("severity"), meta.get("severity"))),
        impact=_s(_first(pv.get("user_impact"), pv.get("affected_users"))),
        started_at=_s(pv.get("started_at")), noticed_at=_s(pv.get("noticed_at")),
        resolved_at=_s(case.get("resolved_at")), recent_changes=changes, hypotheses=hyps,
        evidence=evidence,
        root_cause=_s(_first(rc.get("root_cause"), _d(case.get("working_conclusion")).get("statement"))),
        mechanism=_s(rc.get("mechanism")),
        confidence=_s(_first(rc.get("confidence_level"), rc.get("confidence_score"), rc.get("likelihood"))),
        contributing_factors=_strs(rc.get("contributing_factors")),
        fixes=_fixes_gen23(case),
        lessons=_strs(doc.get("lessons_learned")) + _strs(doc.get("what_could_improve")),
        preventive=_strs(doc.get("preventive_measures")),
        monitoring=_strs(doc.get("monitoring_recommendations")),
    )
    for entry in map(_d, case.get("investigation_journal") or []):
        if entry.get("entry_type") == "ruled_out" and entry.get("content"):
            _rule_out(facts.hypotheses, _s(entry["content"]))
    start = parse_time(_first(pv.get("started_at"), pv.get("noticed_at"), case.get("created_at")))
    end = parse_time(_first(case.get("resolved_at"), case.get("closed_at")))
    if start and end and end >= start:
        facts.resolution_seconds = (end - start).total_seconds()
    return facts


def _rule_out(hypotheses: list[Hypothesis], note: str) -> None:
    """A journal's ruled-out note usually restates a hypothesis the case already holds: it then
    rules that one out (a validated one stays validated) instead of appearing as a second one."""
    same = next((h for h in hypotheses if _overlap(h.statement, note) >= 0.5), None)
    if same is None:
        hypotheses.append(Hypothesis(note, "refuted"))
        return
    if same.state != "validated":
        same.state = "refuted"
        same.reason = same.reason or note


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.lower()).strip()


def _action_state(sol: dict, actions: list[dict]) -> bool | None:
    """True when a matching proposed action was accepted, False if only rejected, None if unknown.

    FaultMaven does not fill applied_at reliably, so acceptance is read from proposed_actions
    matched by description or by a shared command.
    """
    if sol.get("applied_at") or sol.get("applied") is True:
        return True
    texts = {_norm(_s(sol.get(k))) for k in ("title", "immediate_action", "description") if _s(sol.get(k))}
    cmds = {_norm(c) for c in _strs(sol.get("commands"))}
    states = []
    for act in actions:
        desc = _norm(_s(act.get("description")))
        same_text = desc and any(desc == t or (len(desc) > 12 and (desc in t or t in desc)) for t in texts)
        same_cmd = bool(cmds & {_norm(c) for c in _strs(act.get("commands"))})
        if same_text or same_cmd:
            states.append(str(act.get("state") or "").lower())
    if "accepted" in states:
        return True
    if states and all(s in {"rejected", "superseded"} for s in states):
        return False
    return None


def _fixes_gen23(case: dict) -> list[Fix]:
    actions = [_d(a) for a in case.get("proposed_actions") or []]
    fixes = []
    for sol in map(_d, case.get("solutions") or []):
        applied = _action_state(sol, actions)
        if applied is False or str(sol.get("effectiveness") or "").lower() in {"failed", "ineffective"}:
            continue  # a failed or rejected fix must never be presented as the fix
        steps = [_s(s.get("action") if isinstance(s, dict) else s) for s in sol.get("implementation_steps") or []]
        fixes.append(Fix(
            title=_s(_first(sol.get("title"), sol.get("immediate_action"))), applied=applied,
            solution_type=_s(sol.get("solution_type")), immediate=_s(sol.get("immediate_action")),
            longterm=_s(sol.get("longterm_fix")), steps=[s for s in steps if s],
            commands=_strs(sol.get("commands")), verification=_s(sol.get("verification_method")),
            risks=_strs(sol.get("risks")), rollback=_s(sol.get("rollback_procedure") or sol.get("rollback"))))
    # Accepted actions with commands that match no solution still are what was done.
    known = {c for f in fixes for c in map(_norm, f.commands)}
    for act in actions:
        if str(act.get("state") or "").lower() == "accepted" and act.get("action_type") != "diagnostic":
            cmds = _strs(act.get("commands"))
            if cmds and not ({_norm(c) for c in cmds} & known):
                fixes.append(Fix(title=_s(act.get("description")), applied=True, commands=cmds))
    fixes.sort(key=lambda f: f.applied is not True)
    return fixes


def _parse_gen1(case: dict) -> CaseFacts:
    ds = _d(case.get("diagnostic_state"))
    br = _d(ds.get("blast_radius"))
    tl = _d(ds.get("timeline_info"))
    meta = _d(case.get("metadata"))
    changes = [f"[{_s(c.get('type'))}] {_s(c.get('description'))}"
               + (f" ({_s(c.get('timestamp'))})" if c.get("timestamp") else "")
               for c in map(_d, tl.get("recent_changes") or [])]
    root = _s(ds.get("root_cause"))
    hyps = []
    for h in map(_d, ds.get("hypotheses") or []):
        text = _s(h.get("hypothesis") or h.get("statement"))
        if not text:
            continue
        state = _hyp_state(h)
        # The doctor-patient era kept no hypothesis state: the one the root cause restates won.
        if state == "considered" and root and _overlap(text, root) >= 0.5:
            state = "validated"
        hyps.append(Hypothesis(text, state, _s(h.get("likelihood"))))
    evidence = [(e, "") for h in map(_d, ds.get("hypotheses") or []) for e in _strs(h.get("evidence"))][:10]
    sol = _d(_first(ds.get("solution"), case.get("solution")))
    sols = [sol] if sol else [_d(s) for s in _list(_first(ds.get("solutions"), case.get("solutions")))]
    applied = True if ds.get("solution_implemented") or case.get("status") in RESOLVED_STATES else None
    fixes = []
    for s in sols:
        steps = [_d(x) for x in s.get("implementation_steps") or []]
        fixes.append(Fix(
            title=_s(_first(s.get("fix_description"), ds.get("solution_text"))), applied=applied,
            immediate=_s(s.get("why_this_works")),
            steps=[_s(_first(x.get("action"), x.get("step"))) for x in steps if _first(x.get("action"), x.get("step"))],
            commands=[_s(x.get("command")) for x in steps if x.get("command")],
            verification=_s(s.get("verification_steps")), risks=_strs(s.get("risks")),
            rollback=_s(s.get("rollback_procedure"))))
    if not fixes and ds.get("solution_text"):
        fixes.append(Fix(title=_s(ds.get("solution_text")), applied=applied))
    hours = case.get("resolution_time_hours")
    return CaseFacts(
        case_id=_s(case.get("case_id") or case.get("id")), title=_s(case.get("title")), generation=1,
        problem=_s(_first(ds.get("problem_statement"), case.get("description"))),
        symptoms=_strs(ds.get("symptoms")) + _strs(br.get("error_patterns")),
        affected_services=_strs(br.get("affected_services")),
        severity=_s(_first(br.get("severity"), meta.get("severity"))),
        impact=_s(br.get("affected_users")),
        started_at=_s(_first(tl.get("problem_started_at"), ds.get("problem_started_at"))),
        recent_changes=changes, hypotheses=hyps, evidence=evidence,
        tests_performed=_strs(ds.get("tests_performed")), root_cause=root,
        fixes=fixes,
        lessons=_strs(meta.get("lessons_learned")),
        preventive=[p for s in sols for p in _strs(s.get("preventive_measures"))],
        resolution_seconds=float(hours) * 3600 if isinstance(hours, (int, float)) else None,
    )


def _overlap(a: str, b: str) -> float:
    wa, wb = set(re.findall(r"[a-z0-9]+", a.lower())), set(re.findall(r"[a-z0-9]+", b.lower()))
    return len(wa & wb) / max(1, min(len(wa), len(wb)))
