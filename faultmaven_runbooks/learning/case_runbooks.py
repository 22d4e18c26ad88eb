"""create_runbook_from_case: resolved FaultMaven case -> draft runbook, without duplicates.

Order matters: a case resolved by following an existing runbook only credits that runbook;
otherwise similar runbooks are searched first and a close match is returned instead of a copy
(unless `force`); only then is a draft written to dynamic/resolutions/auto-generated/.
"""

from __future__ import annotations

import logging

from pydantic import BaseModel, Field

from ..errors import NotFound
from ..library.markdown import slugify
from .case_render import render_case_runbook
from .cases import CaseFacts, parse_case

log = logging.getLogger(__name__)

DRAFT_FOLDER = "dynamic/resolutions/auto-generated"


class SimilarRunbook(BaseModel):
    id: str
    title: str
    path: str
    relevance_score: float


class CaseRunbookResult(BaseModel):
    status: str = Field(description="created | existing (a close match was returned) | credited "
                                    "(the case was resolved with this runbook)")
    created: bool
    runbook_id: str
    path: str
    title: str
    draft: bool = Field(description="New runbooks are drafts until a person marks them verified.")
    similar: list[SimilarRunbook] = Field(default_factory=list)
    message: str


def incident_from_case(facts: CaseFacts, runbook_id: str | None = None) -> tuple[dict, dict]:
    """The case as a `learn` incident, so cases feed the pattern statistics too."""
    fixes = [f for f in facts.fixes if f.applied] or facts.fixes
    validated = [h.statement for h in facts.hypotheses if h.state == "validated"]
    incident = {
        "id": facts.case_id, "type": facts.title, "symptoms": [facts.problem, *facts.symptoms],
        "diagnosis": [facts.root_cause] if facts.root_cause else validated,
        "resolution": [f.title for f in fixes if f.title], "success": True,
        "duration": facts.resolution_seconds, "service": facts.service, "runbook_used": runbook_id,
        "severity": facts.severity,
    }
    return incident, {"service": facts.service} if facts.service else {}


def _similar(service, facts: CaseFacts) -> list[SimilarRunbook]:
    search = getattr(service, "search", None)
    if search is None:
        return []
    try:
        hits = search(facts.search_text(), limit=3).results
    except Exception:  # dedup is a courtesy; an index outage must not block writing the runbook
        log.exception("similar-runbook search failed; writing without the duplicate check")
        return []
    return [SimilarRunbook(id=h.id, title=h.title, path=h.path, relevance_score=round(h.relevance_score, 3))
            for h in hits]


def _free_id(library, base: str) -> str:
    library.scan()
    rid, n = base, 2
    while library.path_of(rid) is not None or library.resolve(f"{DRAFT_FOLDER}/{rid}.md").exists():
        rid, n = f"{base}-{n}", n + 1
    return rid


def _feed(service, facts: CaseFacts, runbook_id: str | None) -> None:
    """Credit outcome statistics; failures here never undo the runbook."""
    learning, analytics = getattr(service, "learning", None), getattr(service, "analytics", None)
    try:
        if learning is not None:
            incident, context = incident_from_case(facts, runbook_id)
            learning.learn(incident, context, write_runbooks=False)
        if analytics is not None:
            analytics.record_resolution(runbook_id, facts.resolution_seconds)
    except Exception:
        log.exception("recording case %s in the statistics failed", facts.case_id)


def runbook_from_case(authoring, case: dict, force: bool = False) -> CaseRunbookResult:
    facts = parse_case(case)
    library, service, features = authoring.library, authoring.service, authoring.features
    if facts.runbook_used:
        try:
            used = library.get(facts.runbook_used)
        except NotFound:
            used = None
        if used is not None:
            _feed(service, facts, used.id)
            return CaseRunbookResult(
                status="credited", created=False, runbook_id=used.id, path=used.path, title=used.title,
                draft=used.status == "draft",
                message=f"case was resolved with runbook {used.id!r}: its statistics were credited "
                        "instead of writing a duplicate")
    similar = _similar(service, facts)
    best = similar[0] if similar else None
    if best and best.relevance_score >= features.case_reuse_threshold and not force:
        return CaseRunbookResult(
            status="existing", created=False, runbook_id=best.id, path=best.path, title=best.title,
            draft=False, similar=similar,
            message=f"runbook {best.id!r} already covers this problem (similarity {best.relevance_score:.2f} "
                    f">= {features.case_reuse_threshold}); update it with `update_runbook`, or pass "
                    "force=true to write a separate runbook")
    base = slugify(facts.title)[:60].strip("-") or slugify(facts.case_id) or "case-runbook"
    with authoring.lock(base):
        rid = _free_id(library, base)
    result = authoring.write_new(rid, render_case_runbook(facts, rid, service.clock()), DRAFT_FOLDER)
    _feed(service, facts, None)
    review = [s for s in similar if s.relevance_score >= features.case_review_threshold]
    note = (f"; similar runbooks worth reviewing: {', '.join(s.id for s in review)}" if review else "")
    return CaseRunbookResult(
        status="created", created=True, runbook_id=rid, path=result.path, title=facts.title, draft=True,
        similar=similar, message=f"draft runbook written to {result.path}{note}; a person must review "
                                 "it and set status: verified")
