"""LearningService: `learn` from incidents, `get_patterns`, and outcome stats for search.

A learn is one state transaction (storage/): the incident's earlier record if it was sent
before (its outcome comes back out), the matched pattern saved under its revision, the
incident's record, the shared counters as atomic increments, and the dynamic runbook it
warrants, written by the library writer in the same transaction. Two learns on any replicas
that touch the same pattern cannot both save it: the loser (StaleWrite) is redone from the
start, so no count is lost and none is made twice.
"""

from __future__ import annotations

import logging
import threading
import time

from pydantic import BaseModel, Field

from ..clock import Clock
from ..errors import RunbookError, StaleWrite, StoreUnavailable
from ..library.store import RunbookLibrary
from ..library.writer import LibraryWriter
from ..paging import DEFAULT_LIMIT, page
from ..settings import LearningSettings
from .patterns import (
    Embed,
    Match,
    absorb,
    best_match,
    confidence,
    context_of,
    incident_text,
    new_pattern,
    new_pattern_id,
    normalize,
)
from .recommend import recommendations
from .runbooks import LearnedRunbooks
from .stats import (
    Counts,
    count_outcome,
    outcome_of,
    parse_duration,
    pattern_summary,
    resolution_summary,
    runbook_summary,
)
from .validate import check_context, check_incident

log = logging.getLogger(__name__)

ATTEMPTS = 5  # a learn that keeps losing races this often answers Conflict (retry later)
OUTCOMES_TTL = 5.0  # seconds other replicas' outcomes may take to reach this one's search ranking


class LearnResult(BaseModel):
    pattern_detected: bool = Field(description="True when the incident matched a pattern seen before.")
    pattern_id: str
    confidence: float = Field(description="0..1: grows with the pattern's evidence, falls with contradicting outcomes.")
    new_runbook_created: bool
    runbook_id: str | None
    recommendations: list[str]
    similar_incidents: list[str] = Field(default_factory=list)
    credited_runbook: str | None = Field(None, description="Existing runbook whose statistics this outcome updated.")
    updated: bool = Field(False, description="True when this incident id was learned before: its earlier "
                                             "outcome was replaced, not counted again.")


class LearningService:
    def __init__(self, store, writer: LibraryWriter, library: RunbookLibrary, embed: Embed, clock: Clock,
                 features: LearningSettings | None = None):
        self.store = store  # patterns, incidents, outcomes, usage: storage/
        self.writer = writer
        self.library = library
        self.embed = embed
        self.clock = clock
        self.features = features or LearningSettings()
        self._outcomes: tuple[float, dict] | None = None  # (read at, runbook id -> outcome row)
        self._outcomes_lock = threading.Lock()

    # -- learn -------------------------------------------------------------------------------
    def learn(self, incident_data: dict, context: dict | None = None, write_runbooks: bool = True) -> LearnResult:
        """Count an incident's outcome once. An incident sent again under the same id replaces
        what it counted before (its outcome, time, fixes, credited runbook) instead of adding to it."""
        incident, context = check_incident(incident_data), check_context(context)
        vec = normalize(self.embed([incident_text(incident)])[0])
        credited = self._existing_runbook(incident.get("runbook_used"))
        for attempt in range(1, ATTEMPTS + 1):
            try:
                result = self._learn(incident, context, vec, credited, write_runbooks)
                break
            except StaleWrite as exc:
                if attempt == ATTEMPTS:
                    raise
                log.info("learn lost a race (%s); learning the incident again", exc)
        with self._outcomes_lock:
            self._outcomes = None  # this replica's search sees the new outcome at once
        return result

    def _learn(self, incident: dict, context: dict, vec: list[float], credited: str | None,
               write_runbooks: bool) -> LearnResult:
        success, seconds = incident["success"], parse_duration(incident.get("duration"))
        ctx, threshold = context_of(incident, context), self.features.pattern_threshold
        now = self.clock()
        stamp = now.isoformat(timespec="seconds")
        incident_id = incident.get("id")
        outcome = outcome_of(incident, success, seconds, credited)
        candidates = self.store.patterns.candidates()  # before the transaction: cached, cheap
        counts = Counts()
        with self.writer.session() as session:
            tx = session.tx
            earlier = tx.incidents.get(incident_id) if incident_id else None
            before = earlier.data if earlier else None  # None: imported without what it counted
            if earlier is not None:
                # The same incident again: it stays in its pattern, its earlier outcome comes out.
                stored = tx.patterns.get(earlier.pattern_id, lock=True)
                if stored is None:  # the incidents table's foreign key keeps it; a bug if not
                    raise RunbookError(f"incident {incident_id!r} names pattern {earlier.pattern_id!r}, "
                                       "which is not stored")
                pattern, revision = stored.pattern, stored.revision
                detected = before["detected"] if before else True
                match = Match(pattern["id"], before["score"], before["runner_up"]) if before else \
                    Match(pattern["id"], 1.0, 0.0)
                if before:
                    count_outcome(counts, pattern, before, stamp, sign=-1)
                log.info("incident %s was learned before: its outcome is replaced, not added", incident_id)
            else:
                match = best_match(vec, ctx, candidates, threshold)
                detected = match.pattern_id is not None
                if match.pattern_id is not None:
                    stored = tx.patterns.get(match.pattern_id, lock=True)
                    if stored is None:  # gone since the candidates were read (a restore): match again
                        raise StaleWrite(f"pattern {match.pattern_id!r} is no longer stored")
                    pattern, revision = stored.pattern, stored.revision
                else:
                    pid = new_pattern_id(incident, ctx, {c.id for c in candidates})
                    pattern, revision = new_pattern(pid, incident, stamp), None
                    match = Match(pid, 1.0, match.score)
                absorb(pattern, vec, ctx)
            pid = pattern["id"]
            count_outcome(counts, pattern, outcome, stamp, sign=1)
            recent = list(reversed(tx.incidents.recent_ids(pid, 10, exclude=incident_id)))  # oldest first
            conf = confidence(pattern, match, threshold) if detected else 0.0
            recs = recommendations(pattern, incident, success, credited, self.features.pattern_runbook_min)
            if incident.get("runbook_used") and not credited:
                recs.insert(0, f"runbook_used {incident['runbook_used']!r} is not in the library, so no runbook "
                               "was credited; use `search` to find its id")
            record = {**outcome, "pattern": pid, "detected": detected, "score": round(match.score, 4),
                      "runner_up": round(match.runner_up, 4),
                      "incident_runbook": (before or {}).get("incident_runbook"),
                      "incident_runbook_path": (before or {}).get("incident_runbook_path")}
            created, runbook_id = False, None
            if write_runbooks and not credited:
                similar = [*recent, incident_id] if incident_id else recent
                learned = LearnedRunbooks(session, self.library, now, similar, self.features.pattern_runbook_min)
                created, runbook_id = learned.write(pattern, incident, context, detected, conf, recs, seconds, record)
            pattern.pop("incidents", None)  # the incidents table lists them (older releases kept 20 here)
            if revision is None:
                tx.patterns.add(pattern)  # StaleWrite if another replica just created this id
            else:
                tx.patterns.save(pattern, revision)  # StaleWrite if another learn saved it since
            if earlier is not None:
                tx.incidents.replace(earlier, pid, record)
            elif tx.incidents.add(pid, record, incident_id) is None:
                raise StaleWrite(f"incident {incident_id!r} was just learned by another request")
            counts.apply(tx)
        runbook_id = credited or runbook_id or pattern["runbook_id"] or _most_linked(pattern) \
            or (pattern["incident_runbooks"][-1] if pattern["incident_runbooks"] else None)
        return LearnResult(pattern_detected=detected, pattern_id=pid, confidence=conf,
                           new_runbook_created=created, runbook_id=runbook_id, recommendations=recs,
                           similar_incidents=recent[-5:], credited_runbook=credited, updated=earlier is not None)

    def _existing_runbook(self, runbook_id: str | None) -> str | None:
        if not runbook_id:
            return None
        try:  # as people write it: the id in any case, an alert name, a runbook_url
            return self.library.find(runbook_id).id
        except RunbookError:
            return None  # the outcome is still learned; the result says the runbook was not found

    # -- read side -------------------------------------------------------------------------
    def get_patterns(self, cursor: str | None = None, limit: int = DEFAULT_LIMIT) -> dict:
        """Patterns, most frequent first (by the incidents they hold), one page at a time; the
        resolutions and runbook outcomes shown are those of the patterns on the page, so the
        answer stays small as learning grows."""
        threshold = self.features.pattern_threshold
        ordered = sorted(self.store.patterns.candidates(), key=lambda c: (-c.members, c.id))
        shown, next_cursor = page(ordered, lambda c: (-c.members, c.id), "patterns", cursor, limit)
        stored = self.store.patterns.get_many([c.id for c in shown])
        patterns, resolutions, runbooks = {}, set(), set()
        for c in shown:
            p = stored[c.id].pattern
            summary = pattern_summary(p)
            summary["confidence"] = confidence(p, Match(p["id"], 1.0, 0.0), threshold)
            patterns[p["id"]] = summary
            resolutions |= set(p["solutions"])
            runbooks |= set(p["linked_runbooks"]) | ({p["runbook_id"]} if p["runbook_id"] else set())
        return {"incident_patterns": patterns,
                "resolution_effectiveness": {k: resolution_summary(v) for k, v in
                                             sorted(self.store.outcomes.resolutions(resolutions).items())},
                "runbook_outcomes": {k: runbook_summary(v) for k, v in
                                     sorted(self.store.outcomes.runbooks(runbooks).items()) if v["uses"] > 0},
                "total_incidents": self.store.incidents.total(), "total_patterns": len(ordered),
                "next_cursor": next_cursor}

    def _runbook_outcomes(self) -> dict:
        """Every runbook's outcome row, read at most every OUTCOMES_TTL seconds: search asks for
        one per candidate. A database that cannot answer leaves search unranked, never failed."""
        with self._outcomes_lock:
            if self._outcomes is not None and time.monotonic() - self._outcomes[0] < OUTCOMES_TTL:
                return self._outcomes[1]
        try:
            rows = self.store.outcomes.runbooks()
        except StoreUnavailable:
            log.warning("learned outcomes are unavailable; search ranks without them for now")
            rows = {}
        with self._outcomes_lock:
            self._outcomes = (time.monotonic(), rows)
        return rows

    def runbook_stats(self, runbook_id: str) -> dict | None:
        """Outcomes of incidents resolved with this runbook (None if never used); fast, cached."""
        rb = self._runbook_outcomes().get(runbook_id)
        return runbook_summary(rb) if rb and rb["uses"] > 0 else None

    def outcome_factor(self, runbook_id: str) -> float:
        """Multiplier for a search hit's relevance, 0.9..1.1: above 1 for a runbook that keeps
        resolving its incidents, below 1 for one that keeps failing, 1.0 without evidence. The
        smoothed rate and the evidence weight keep one lucky outcome from reordering results."""
        rb = self._runbook_outcomes().get(runbook_id)
        if not rb or rb["uses"] <= 0:
            return 1.0
        rate = (rb["resolved"] + 1) / (rb["uses"] + 2)
        weight = rb["uses"] / (rb["uses"] + 3)
        return round(1 + 0.1 * weight * (2 * rate - 1), 4)

    def record_runbook_outcome(self, runbook_id: str, success: bool, seconds: float | None = None) -> None:
        """An outcome credited to a runbook without an incident to learn from."""
        counts = Counts()
        counts.runbook(runbook_id, success, seconds, sign=1)
        with self.store.transaction() as tx:
            counts.apply(tx)
        with self._outcomes_lock:
            self._outcomes = None


def _most_linked(pattern: dict) -> str | None:
    linked: dict[str, int] = pattern.get("linked_runbooks") or {}
    return max(linked, key=linked.__getitem__) if linked else None
