"""create_runbook_from_case: resolved FaultMaven case -> draft runbook, without duplicates.

Order matters: a case resolved by following an existing runbook only credits that runbook;
otherwise search proposes candidates, each is scored by how close its problem statement is to
the case's (problems.py), and a runbook that already covers the problem is returned and credited
instead of a copy (unless `force`); only then is a draft written to
dynamic/resolutions/auto-generated/. Every path feeds the case to `learn` once, under the
case id, so sending the same case again never counts its resolution twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from pydantic import BaseModel, Field

from ..clock import Clock
from ..errors import RunbookError
from ..library.markdown import slugify
from ..library.store import RunbookLibrary
from ..library.writer import LibraryWriter
from ..settings import LearningSettings
from .case_render import render_case_runbook
from .cases import CaseFacts, parse_case
from .problems import Embed, case_problem, runbook_problem, similarities

log = logging.getLogger(__name__)

DRAFT_FOLDER = "dynamic/resolutions/auto-generated"
CANDIDATES = 5  # search hits whose problem statements are compared with the case's


class SimilarRunbook(BaseModel):
    id: str
    title: str
    path: str
    similarity: float = Field(description="0..1: how close the runbook's problem (symptoms, root cause, "
                                          "service) is to the case's")


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


def _answer(status: str, rb, message: str, similar: list[SimilarRunbook] | None = None) -> CaseRunbookResult:
    return CaseRunbookResult(status=status, created=False, runbook_id=rb.id, path=rb.path, title=rb.title,
                             draft=rb.status == "draft", similar=similar or [], message=message)


class CaseRunbooks:
    """`search(text, limit)` proposes candidates (the service's search), `learn(incident,
    context, write_runbooks)` counts the case's resolution (the learning feature's)."""

    def __init__(self, library: RunbookLibrary, writer: LibraryWriter, search: Callable, embed: Embed,
                 learn: Callable, clock: Clock, features: LearningSettings | None = None):
        self.library = library
        self.writer = writer
        self.search = search
        self.embed = embed
        self.learn = learn
        self.clock = clock
        self.features = features or LearningSettings()

    def create(self, case: object, force: bool = False) -> CaseRunbookResult:
        facts = parse_case(case)
        library, features = self.library, self.features
        if facts.runbook_used:
            try:
                used = library.find(facts.runbook_used)
            except RunbookError:
                used = None
            if used is not None:
                self._feed(facts, used.id)
                return _answer("credited", used, f"case was resolved with runbook {used.id!r}: its statistics "
                                                 "were credited instead of writing a duplicate")
        similar = self._similar(facts)
        best = similar[0] if similar else None
        if best and best.similarity >= features.case_reuse_threshold and not force:
            existing = library.get(best.id)
            # The same case sent again finds the draft written from it: that resolution was reached
            # without a runbook, and stays counted that way.
            own_draft = bool(facts.case_id) and str(existing.metadata.get("source_case") or "") == facts.case_id
            self._feed(facts, None if own_draft else existing.id)
            credit = "it was written from this case" if own_draft else "the case's resolution was credited to it"
            return _answer("existing", existing, similar=similar, message=(
                f"runbook {best.id!r} already covers this problem (problem similarity {best.similarity:.2f} >= "
                f"{features.case_reuse_threshold}); {credit}. Update it with `update_runbook`, or pass force=true "
                "to write a separate runbook"))
        base = slugify(facts.title)[:60].strip("-") or slugify(facts.case_id) or "case-runbook"
        now = self.clock()
        written = self.writer.create(base, DRAFT_FOLDER, lambda rid: render_case_runbook(facts, rid, now))
        self._feed(facts, None)
        review = [s for s in similar if s.similarity >= features.case_review_threshold]
        note = (f"; similar runbooks worth reviewing: {', '.join(s.id for s in review)}" if review else "")
        return CaseRunbookResult(
            status="created", created=True, runbook_id=written.id, path=written.path, title=facts.title, draft=True,
            similar=similar, message=f"draft runbook written to {written.path}{note}; a person must review "
                                     "it and set status: verified")

    def _similar(self, facts: CaseFacts) -> list[SimilarRunbook]:
        """Runbooks whose problem is closest to the case's, best first."""
        try:
            hits = self.search(facts.search_text(), limit=CANDIDATES).results
            runbooks = [self.library.get(h.id) for h in hits]
            scores = similarities(self.embed, case_problem(facts), [runbook_problem(rb) for rb in runbooks])
        except Exception:  # dedup is a courtesy; an index outage must not block writing the runbook
            log.exception("similar-runbook check failed; writing without the duplicate check")
            return []
        found = [SimilarRunbook(id=rb.id, title=rb.title, path=rb.path, similarity=score)
                 for rb, score in zip(runbooks, scores, strict=True)]
        return sorted(found, key=lambda s: (-s.similarity, s.id))

    def _feed(self, facts: CaseFacts, runbook_id: str | None) -> None:
        """Count the case's resolution once (learn is idempotent by case id); failures here never
        undo the runbook."""
        try:
            incident, context = incident_from_case(facts, runbook_id)
            self.learn(incident, context, write_runbooks=False)
        except Exception:
            log.exception("recording case %s in the statistics failed", facts.case_id)
