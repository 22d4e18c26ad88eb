"""LearningService: `learn` from incidents, `get_patterns`, and outcome stats for search."""

from __future__ import annotations

import logging

from pydantic import BaseModel, Field

from ..errors import RunbookError
from ..library.markdown import slugify
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
    words,
)
from .recommend import recommendations
from .stats import (
    LearningStore,
    parse_duration,
    pattern_summary,
    record_pattern,
    record_resolution,
    record_runbook,
    record_unassisted,
    resolution_summary,
    runbook_summary,
)
from .validate import check_context, check_incident
from .writer import incident_runbook, machine_owned, pattern_runbook

log = logging.getLogger(__name__)


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
    def __init__(self, settings, service, embed: Embed | None = None, features: LearningSettings | None = None):
        self.settings = settings
        self.service = service
        self.features = features or settings.learning
        self.store = LearningStore(settings.data_dir)
        self._embed = embed

    def embed(self, texts: list[str]) -> list[list[float]]:
        fn = self._embed or getattr(self.service, "embed", None)
        if fn is None:
            raise RuntimeError("no embedder: RunbookService.embed is missing")
        return fn(texts)

    # -- learn -------------------------------------------------------------------------------
    def learn(self, incident_data: dict, context: dict | None = None, write_runbooks: bool = True) -> LearnResult:
        """Count an incident's outcome once. An incident sent again under the same id replaces
        what it counted before (its outcome, time, fixes, credited runbook) instead of adding to it."""
        incident, context = check_incident(incident_data), check_context(context)
        success = incident["success"]
        seconds = parse_duration(incident.get("duration"))
        ctx = context_of(incident, context)
        vec = normalize(self.embed([incident_text(incident)])[0])
        credited = self._existing_runbook(incident.get("runbook_used"))
        threshold = self.features.pattern_threshold
        now = self.service.clock()
        stamp = now.isoformat(timespec="seconds")
        incident_id = incident.get("id")
        outcome = _outcome(incident, success, seconds, credited)
        to_index: list[str] = []
        with self.store.update() as state:
            patterns = state["patterns"]
            earlier = state["learned"].get(incident_id) if incident_id else None
            if earlier and earlier["pattern"] in patterns:
                # The same incident again: it stays in its pattern, its earlier outcome comes out.
                pattern = patterns[earlier["pattern"]]
                detected = earlier["detected"]
                match = Match(pattern["id"], earlier["score"], earlier["runner_up"])
                _count(state, pattern, earlier, stamp, sign=-1)
                log.info("incident %s was learned before: its outcome is replaced, not added", incident_id)
            else:
                earlier = None
                match = best_match(vec, ctx, patterns, threshold)
                detected = match.pattern_id is not None
                if detected:
                    pattern = patterns[match.pattern_id]
                else:
                    pid = new_pattern_id(incident, ctx, set(patterns))
                    pattern = patterns[pid] = new_pattern(pid, incident, stamp)
                    match = Match(pid, 1.0, match.score)
                absorb(pattern, vec, ctx)
                state["incidents"] = state.get("incidents", 0) + 1
            similar = [i for i in pattern["incidents"] if i != incident_id][-5:]
            _count(state, pattern, outcome, stamp, sign=1)
            conf = confidence(pattern, match, threshold) if detected else 0.0
            recs = recommendations(pattern, incident, success, credited, self.features.pattern_runbook_min)
            if incident.get("runbook_used") and not credited:
                recs.insert(0, f"runbook_used {incident['runbook_used']!r} is not in the library, so no runbook "
                               "was credited; use `search` to find its id")
            created, runbook_id, relpath = False, None, None
            if write_runbooks and not credited:
                created, runbook_id, relpath = self._write(pattern, incident, context, detected, conf, recs,
                                                           seconds, now, earlier)
                if relpath:
                    to_index.append(relpath)
            if incident_id:
                wrote = created and not detected  # this incident's own runbook, rewritten if it comes again
                state["learned"][incident_id] = {
                    **outcome, "pattern": pattern["id"], "detected": detected, "score": round(match.score, 4),
                    "runner_up": round(match.runner_up, 4),
                    "incident_runbook": runbook_id if wrote else (earlier or {}).get("incident_runbook"),
                    "incident_runbook_path": relpath if wrote else (earlier or {}).get("incident_runbook_path")}
            runbook_id = credited or runbook_id or pattern["runbook_id"] or _most_linked(pattern) \
                or (pattern["incident_runbooks"][-1] if pattern["incident_runbooks"] else None)
        self._reindex(to_index)
        return LearnResult(pattern_detected=detected, pattern_id=pattern["id"], confidence=conf,
                           new_runbook_created=created, runbook_id=runbook_id, recommendations=recs,
                           similar_incidents=similar, credited_runbook=credited,
                           updated=earlier is not None)

    def _write(self, pattern, incident, context, detected, conf, recs, seconds, now, earlier=None):
        """(created?, runbook id, relpath to index) for the dynamic runbook this incident warrants."""
        library = self.service.library
        rewrite, relpath = (earlier or {}).get("incident_runbook"), (earlier or {}).get("incident_runbook_path")
        if rewrite and relpath and library.resolve(relpath).is_file():
            # A re-sent incident updates the runbook it wrote, unless a person took it over.
            if not machine_owned(library.resolve(relpath).read_text("utf-8", errors="replace")):
                return False, rewrite, None
            library.write(relpath, incident_runbook(rewrite, incident, context, pattern, conf, recs, seconds, now))
            return False, rewrite, relpath
        if not detected:
            base = slugify(f"{now.date().isoformat()}-{words(incident.get('type'))}")[:70].strip("-")
            rid, relpath = self._free(f"incident-{base}", "dynamic/incidents", base)
            library.write(relpath, incident_runbook(rid, incident, context, pattern, conf, recs, seconds, now))
            pattern["incident_runbooks"] = (pattern["incident_runbooks"] + [rid])[-5:]
            return True, rid, relpath
        if pattern["members"] < self.features.pattern_runbook_min:
            return False, None, None
        created = pattern["runbook_id"] is None
        if created:
            rid, relpath = self._free(f"pattern-{pattern['id']}", "dynamic/patterns", pattern["id"])
            pattern["runbook_id"], pattern["runbook_path"] = rid, relpath
        rid, relpath = pattern["runbook_id"], pattern["runbook_path"]
        path = library.resolve(relpath)
        if path.exists() and not machine_owned(path.read_text("utf-8", errors="replace")):
            return False, rid, None  # a person took this runbook over: leave their text alone
        created_day = None if created else pattern.get("runbook_created")
        pattern.setdefault("runbook_created", now.date().isoformat())
        library.write(relpath, pattern_runbook(rid, pattern, conf, recs, now, created_day))
        return created, rid, relpath

    def _free(self, rid: str, folder: str, stem: str) -> tuple[str, str]:
        library = self.service.library
        library.scan()
        base_id, base_stem, n = rid, stem, 2
        while library.path_of(rid) is not None or library.resolve(f"{folder}/{stem}.md").exists():
            rid, stem, n = f"{base_id}-{n}", f"{base_stem}-{n}", n + 1
        return rid, f"{folder}/{stem}.md"

    def _existing_runbook(self, runbook_id: str | None) -> str | None:
        if not runbook_id:
            return None
        try:  # as people write it: the id in any case, an alert name, a runbook_url
            return self.service.library.find(runbook_id).id
        except RunbookError:
            return None  # the outcome is still learned; the result says the runbook was not found

    def _reindex(self, relpaths: list[str]) -> None:
        reindex = getattr(self.service, "reindex", None)
        if relpaths and reindex is not None:
            try:
                reindex(relpaths)
            except Exception:  # the runbook is on disk; the next sync indexes it
                log.exception("indexing %s failed", relpaths)

    # -- read side -------------------------------------------------------------------------
    def get_patterns(self, cursor: str | None = None, limit: int = DEFAULT_LIMIT) -> dict:
        """Patterns, most frequent first, one page at a time; the resolutions and runbook outcomes
        shown are those of the patterns on the page, so the answer stays small as learning grows."""
        state = self.store.view()
        threshold = self.features.pattern_threshold
        ordered = sorted(state["patterns"].values(),
                         key=lambda p: (-(p["successes"] + p["failures"]), p["id"]))
        shown, next_cursor = page(ordered, lambda p: (-(p["successes"] + p["failures"]), p["id"]),
                                  "patterns", cursor, limit)
        patterns, resolutions, runbooks = {}, set(), set()
        for p in shown:
            summary = pattern_summary(p)
            summary["confidence"] = confidence(p, Match(p["id"], 1.0, 0.0), threshold)
            patterns[p["id"]] = summary
            resolutions |= set(p["solutions"])
            runbooks |= set(p["linked_runbooks"]) | ({p["runbook_id"]} if p["runbook_id"] else set())
        return {"incident_patterns": patterns,
                "resolution_effectiveness": {k: resolution_summary(v) for k, v in sorted(state["resolutions"].items())
                                             if k in resolutions},
                "runbook_outcomes": {k: runbook_summary(v) for k, v in sorted(state["runbooks"].items())
                                     if k in runbooks},
                "total_incidents": state.get("incidents", 0), "total_patterns": len(ordered),
                "next_cursor": next_cursor}

    def resolution_times(self) -> dict:
        """Resolved incidents and their total timed seconds, per credited runbook and without one."""
        state = self.store.view()
        return {"runbooks": {rid: {"resolved": rb["resolved"], "seconds_total": rb["seconds_total"],
                                   "timed": rb["timed"]} for rid, rb in state["runbooks"].items()},
                "unassisted": dict(state["unassisted"])}

    def runbook_stats(self, runbook_id: str) -> dict | None:
        """Outcomes of incidents resolved with this runbook (None if never used); fast, cached."""
        rb = self.store.view()["runbooks"].get(runbook_id)
        return runbook_summary(rb) if rb else None

    def outcome_factor(self, runbook_id: str) -> float:
        """Multiplier for a search hit's relevance, 0.9..1.1: above 1 for a runbook that keeps
        resolving its incidents, below 1 for one that keeps failing, 1.0 without evidence. The
        smoothed rate and the evidence weight keep one lucky outcome from reordering results."""
        rb = self.store.view()["runbooks"].get(runbook_id)
        if not rb or not rb["uses"]:
            return 1.0
        rate = (rb["resolved"] + 1) / (rb["uses"] + 2)
        weight = rb["uses"] / (rb["uses"] + 3)
        return round(1 + 0.1 * weight * (2 * rate - 1), 4)

    def record_runbook_outcome(self, runbook_id: str, success: bool, seconds: float | None = None) -> None:
        with self.store.update() as state:
            record_runbook(state, runbook_id, success, seconds)


def _outcome(incident: dict, success: bool, seconds: float | None, credited: str | None) -> dict:
    """What one incident adds to the statistics; kept per incident id so it can be taken back."""
    return {"success": success, "seconds": seconds, "credited": credited,
            "type": incident.get("type"), "diagnosis": incident.get("diagnosis") or [],
            "symptoms": incident.get("symptoms") or [], "triggers": incident.get("triggers") or [],
            "resolution": incident.get("resolution") or [], "id": incident.get("id"),
            "side_effects": {name: _side_effects(incident, name) for name in incident.get("resolution") or []}}


def _count(state: dict, pattern: dict, outcome: dict, stamp: str, sign: int) -> None:
    """Add (sign +1) or take back (sign -1) one incident's outcome everywhere it counts."""
    success, seconds, credited = outcome["success"], outcome["seconds"], outcome["credited"]
    record_pattern(pattern, outcome, success, seconds, stamp, sign)
    for name in outcome["resolution"]:
        record_resolution(state, name, success, seconds, outcome["side_effects"].get(name, []), sign)
    if credited:
        record_runbook(state, credited, success, seconds, sign)
        linked = pattern["linked_runbooks"]
        linked[credited] = linked.get(credited, 0) + sign
        if linked[credited] <= 0:
            del linked[credited]
    else:
        record_unassisted(state, success, seconds, sign)


def _side_effects(incident: dict, resolution: str) -> list[str]:
    effects = incident.get("side_effects")
    if isinstance(effects, dict):
        return [str(e) for e in effects.get(resolution) or []]
    return [str(e) for e in effects or []]


def _most_linked(pattern: dict) -> str | None:
    linked = pattern.get("linked_runbooks") or {}
    return max(linked, key=linked.get) if linked else None
