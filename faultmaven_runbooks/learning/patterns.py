"""Pattern detection: incidents grouped by meaning, not by identical `type` strings.

An incident is embedded from its type, symptoms and diagnosis; it joins the pattern whose
centroid is most similar when the similarity, nudged by context (pod type, service), clears a
threshold; otherwise it starts a new pattern. Confidence grows with the evidence behind the
pattern and falls when outcomes contradict it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..library.markdown import slugify

Embed = Callable[[Sequence[str]], list[list[float]]]
CONTEXT_KEYS = ("pod_type", "service", "workload", "component")
CONTEXT_WEIGHT = 0.04


def words(value: object) -> str:
    """'memory_limit_exceeded' -> 'memory limit exceeded', so embedders see words."""
    if isinstance(value, (list, tuple)):
        return ", ".join(words(v) for v in value if v)
    return re.sub(r"[_\s]+", " ", str(value or "")).strip()


def incident_text(incident: dict) -> str:
    parts = [f"incident type: {words(incident.get('type'))}"]
    if incident.get("symptoms"):
        parts.append(f"symptoms: {words(incident['symptoms'])}")
    if incident.get("diagnosis"):
        parts.append(f"diagnosis: {words(incident['diagnosis'])}")
    return ". ".join(parts)


def context_of(incident: dict, context: dict) -> dict[str, str]:
    out = {}
    for key in CONTEXT_KEYS:
        value = context.get(key) or incident.get(key)
        if value:
            out[key] = str(value).lower()
    return out


def normalize(vec: Sequence[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in vec)) or 1.0
    return [x / norm for x in vec]


def context_score(ctx: dict[str, str], pattern: dict) -> float:
    """+ when the incident's context is the pattern's usual one, - when the pattern never saw it."""
    score = 0.0
    seen = pattern.get("context", {})
    for key, value in ctx.items():
        counts = seen.get(key)
        if not counts:
            continue
        if value == max(counts, key=counts.get):
            score += CONTEXT_WEIGHT
        elif value not in counts:
            score -= CONTEXT_WEIGHT
    return max(-2 * CONTEXT_WEIGHT, min(2 * CONTEXT_WEIGHT, score))


@dataclass
class Match:
    pattern_id: str | None  # None: nothing cleared the threshold, a new pattern starts
    score: float
    runner_up: float


def best_match(vec: list[float], ctx: dict[str, str], candidates: Sequence, threshold: float) -> Match:
    """The closest of the candidates (objects with id, centroid and context: the store's cached
    PatternCandidates); one matrix product scores them all. Centroids of another length (made by
    another embedding model) cannot be compared and never match."""
    query = np.asarray(vec, dtype=np.float64)
    comparable = [c for c in candidates if len(c.centroid) == len(query)]
    if not comparable:
        return Match(None, 0.0, 0.0)
    similarity = np.stack([c.centroid for c in comparable]) @ query
    scored = sorted(((float(sim) + context_score(ctx, {"context": c.context}), c.id)
                     for sim, c in zip(similarity, comparable, strict=True)), reverse=True)
    top, pid = scored[0]
    runner = scored[1][0] if len(scored) > 1 else 0.0
    return Match(pid if top >= threshold else None, top, runner)


def absorb(pattern: dict, vec: list[float], ctx: dict[str, str]) -> None:
    """Move the centroid towards the new member (running mean, renormalised)."""
    n = pattern.get("members", 0)
    mean = [(c * n + v) / (n + 1) for c, v in zip(pattern["centroid"], vec, strict=True)] if n else list(vec)
    pattern["centroid"] = [round(x, 6) for x in normalize(mean)]
    pattern["members"] = n + 1
    for key, value in ctx.items():
        bucket = pattern.setdefault("context", {}).setdefault(key, {})
        bucket[value] = bucket.get(value, 0) + 1


def confidence(pattern: dict, match: Match, threshold: float) -> float:
    """How sure we are that the incident is an instance of this pattern, in 0..1.

    evidence: 1 - 0.5/n over the pattern's members (this incident included), so a pattern seen
    twice gives 0.75 and one seen ten times 0.95; fit: how far the similarity clears the
    threshold, damped when a second pattern is nearly as close; consistency: the Laplace-smoothed
    share of the pattern's outcomes that were successes, so when the pattern's usual fixes keep
    failing the incidents may not be one pattern after all and the confidence drops.
    Replayed on generated incidents (benchmarks/learning_replay.py) this tracks how often the
    match is right.
    """
    n = max(1, pattern.get("members", 1))
    evidence = 1 - 0.5 / n
    clear = max(0.0, min(1.0, (match.score - threshold) / max(1e-6, 1 - threshold)))
    fit = 0.6 + 0.4 * clear
    margin = max(0.0, min(1.0, (match.score - match.runner_up) / 0.1))
    fit *= 0.85 + 0.15 * margin
    s, f = pattern.get("successes", 0), pattern.get("failures", 0)
    consistency = (s + 1) / (s + f + 2)
    return round(max(0.0, min(1.0, evidence * fit * (0.7 + 0.3 * consistency) / 0.97)), 3)


def new_pattern_id(incident: dict, ctx: dict[str, str], taken: set[str]) -> str:
    diagnosis = incident.get("diagnosis") or []
    head = diagnosis[0] if isinstance(diagnosis, list) and diagnosis else incident.get("type") or "incident"
    base = "-".join(slugify(words(head)).split("-")[:5])[:48].strip("-") or "pattern"
    qualifier = ctx.get("pod_type") or ctx.get("service")
    if qualifier:
        base = f"{base}-{slugify(qualifier)[:24]}".strip("-")
    pid, n = base, 2
    while pid in taken:
        pid, n = f"{base}-{n}", n + 1
    return pid


def new_pattern(pid: str, incident: dict, now: str) -> dict:
    return {"id": pid, "name": words(incident.get("type")) or pid, "centroid": [], "members": 0,
            "successes": 0, "failures": 0, "seconds_total": 0.0, "timed": 0, "types": {},
            "diagnoses": {}, "solutions": {}, "triggers": {}, "context": {},
            "runbook_id": None, "runbook_path": None, "incident_runbooks": [], "linked_runbooks": {},
            "created": now, "last_seen": now}
