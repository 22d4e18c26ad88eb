"""Is this case a problem some runbook already covers? Compare problem statements, not text.

A search score says a runbook is worth reading for a query; it says nothing about whether two
problems are the same: any case mentioning x509 ranks the expired-certificate runbook first, and
a Redis case whose sessions grew to 5 MB ranks the generic OOMKilled runbook first. A duplicate
needs both the same symptoms and the same root cause, so the two are embedded and compared
apart, and the similarity is their mean:

- symptoms: the case's title, symptom statement, indicators and affected service, against the
  runbook's title, summary, problem / symptom sections and service;
- root cause: the case's root cause against each sentence of the runbook's root-cause and
  hypothesis sections, best match (a general runbook lists several causes; the case has one).

A case without a recorded root cause is compared on its symptoms alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..models import Runbook
from .cases import CaseFacts

Embed = Callable[[Sequence[str]], list[list[float]]]

SYMPTOM_HEADINGS = re.compile(r"problem|summary|symptom|meaning|overview|description|impact|issue", re.I)
CAUSE_HEADINGS = re.compile(r"cause|hypothes|why", re.I)
MAX_CHARS = 1200  # the model reads about 256 word pieces; the rest would be cut anyway
MAX_CAUSES = 24


@dataclass
class Problem:
    symptoms: str
    causes: list[str]  # one for a case; one per candidate sentence for a runbook


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _sentences(text: str) -> list[str]:
    out = []
    for line in text.splitlines():
        line = re.sub(r"^[\s>*\-+#\d.)]+", "", line)          # bullets, numbering, headings
        line = re.sub(r"\*\*([^*]+)\*\*:?", r"\1", line).strip()  # **Hypothesis 1**: ...
        if line.startswith("```"):
            continue
        out += [s for s in re.split(r"(?<=[.!?])\s+", line) if len(s) > 15]
    return [s[:300] for s in out]


def case_problem(facts: CaseFacts) -> Problem:
    service = f"Affected service: {', '.join(facts.affected_services)}" if facts.affected_services else ""
    symptoms = " ".join([f"{facts.title}.", facts.problem, *facts.symptoms[:6], service])
    cause = " ".join(x for x in (facts.root_cause, facts.mechanism) if x)
    return Problem(_flat(symptoms)[:MAX_CHARS], [cause[:MAX_CHARS]] if cause else [])


def runbook_problem(rb: Runbook) -> Problem:
    top = [s for s in rb.sections if s.path]
    symptom_text = " ".join(s.text for s in top if SYMPTOM_HEADINGS.search(s.path[0]))
    if not symptom_text:  # no problem section: the opening of the runbook stands in for it
        symptom_text = " ".join(s.text for s in top[:2])
    service = f"Affected service: {rb.service}" if rb.service else ""
    symptoms = " ".join([f"{rb.title}.", rb.summary, _flat(symptom_text), service])
    cause_text = "\n".join(s.text for s in top if any(CAUSE_HEADINGS.search(p) for p in s.path))
    causes = _sentences(cause_text) or _sentences(symptom_text)
    return Problem(_flat(symptoms)[:MAX_CHARS], causes[:MAX_CAUSES])


def similarities(embed: Embed, case: Problem, runbooks: list[Problem]) -> list[float]:
    """Similarity in [0, 1] of the case's problem to each runbook's, in one embedding call."""
    texts = [case.symptoms, *case.causes]
    spans = []
    for rb in runbooks:
        start = len(texts)
        texts += [rb.symptoms, *rb.causes]
        spans.append((start, len(texts)))
    vectors = np.asarray(embed(texts), dtype=np.float64)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    case_symptoms = vectors[0]
    case_cause = vectors[1] if case.causes else None
    scores = []
    for start, end in spans:
        symptom = float(vectors[start] @ case_symptoms)
        if case_cause is None or end - start < 2:
            score = symptom
        else:
            score = (symptom + float(np.max(vectors[start + 1:end] @ case_cause))) / 2
        scores.append(round(max(0.0, min(1.0, score)), 3))
    return scores
