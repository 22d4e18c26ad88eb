"""What a search answers per runbook: the candidates a ranking found (`Match`, `Ranking`) and
each one rendered as the `SearchHit` an agent reads (section, snippet, why it matched)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from ..models import MatchSignals, RunbookRef, SearchHit
from . import confidence as conf
from .documents import SearchDoc, effective_status
from .keyword import KeywordIndex, Query
from .mirror import DocRecord, Mirror
from .query import QueryText
from .text import identifiers, tokenize

SNIPPET_CHARS = 240


@dataclass
class Match:
    doc: int
    features: np.ndarray
    score: float
    relevance: float = 0.0
    chunk: int | None = None
    also: list[int] = field(default_factory=list)

    def feature(self, name: str) -> float:
        return float(self.features[conf.FEATURES.index(name)])


@dataclass
class Ranking:
    """One query's candidates, best first, and what is needed to render them."""

    matches: list[Match]
    kw: KeywordIndex
    mirror: Mirror
    query: QueryText
    terms: Query
    model_ready: bool = True  # False: the model was still loading, the ranking is keywords only
    loading: bool = False  # True: another thread was still loading the index; nothing was searched


def render_hit(match: Match, ranking: Ranking) -> SearchHit:
    """A ranked match as the agent reads it: the section and snippet that matched, and why."""
    kw, mirror = ranking.kw, ranking.mirror
    doc = kw.docs[match.doc]
    info = doc.info
    rec = mirror.docs.get(doc.path)
    words = set(tokenize(ranking.query.topic))
    section, snippet = "", info.summary
    if rec is not None:
        # A name or a code alone is best shown where the runbook says it; a description where
        # the runbook means the same.
        chunk = match.chunk
        if chunk is None or ranking.query.name_only:
            found = _best_chunk(rec, words)
            chunk = found if found is not None else chunk
        if chunk is not None and chunk < len(rec.texts):
            section = rec.sections[chunk]
            snippet = snippet_of(rec.texts[chunk], words)
    see = None
    if match.doc in kw.stub_target:
        target = kw.docs[kw.stub_target[match.doc]]
        see = RunbookRef(id=target.info.id, path=target.path)
    status = effective_status(info)
    keywords = kw.shared_words(ranking.terms, match.doc)
    names = [key for key, _ in ranking.query.names if any(key == k for k, _ in doc.names)]
    if match.feature("name_exact") and not names:  # a code the runbook mentions: ENOSPC
        names = sorted(identifiers(ranking.query.topic) & set(keywords))
    return SearchHit(
        id=info.id, title=info.title, type=info.type, severity=info.severity, status=status,
        relevance_score=round(match.relevance, 3), summary=info.summary,
        last_updated=info.last_updated, path=info.path, section=section or "(summary)", snippet=snippet,
        why=MatchSignals(
            exact_identifier=round(max(match.feature("name_exact"), match.feature("name_prefix"),
                                       match.feature("name_overlap")), 3),
            identifiers=names,
            keyword_coverage=round(match.feature("coverage"), 3),
            keywords=keywords,
            semantic_similarity=round(match.feature("dense"), 3),
            note=_note(doc, status, see),
        ),
        also_in=[RunbookRef(id=kw.docs[d].info.id, path=kw.docs[d].path) for d in match.also],
        see=see, tags=info.tags,
    )


def _note(doc: SearchDoc, status: str, see: RunbookRef | None) -> str | None:
    notes = []
    if see is not None:
        notes.append(f"only points to {see.id}")
    if doc.kind == "index":
        notes.append("a README or list of links, not a runbook itself")
    if status != "verified":
        notes.append(f"status {status}")
    return "; ".join(notes) or None


def _best_chunk(rec: DocRecord, words: set[str]) -> int | None:
    """The chunk naming the most query words (stems, found as substrings: cheap, and close
    enough for choosing what to show)."""
    best, best_n = None, 0
    for n, text in enumerate(rec.texts):
        lowered = text.lower()
        shared = sum(w in lowered for w in words)
        if shared > best_n:
            best, best_n = n, shared
    return best


def snippet_of(chunk_text: str, words: set[str]) -> str:
    """The lines of a chunk that share the most query words, about 240 characters.

    Lines are scored by substring hits of the (stemmed) query words: cheap, and close enough
    for choosing where a snippet starts."""
    lines = [line.strip() for line in chunk_text.splitlines()[1:] if line.strip() and not line.startswith("```")]
    if not lines:
        return chunk_text[:SNIPPET_CHARS]
    lowered = [line.lower() for line in lines]
    start = max(range(len(lines)), key=lambda i: (sum(w in lowered[i] for w in words), -i))
    text = ""
    for line in lines[start:]:
        text = f"{text} {line}".strip()
        if len(text) >= SNIPPET_CHARS:
            break
    text = re.sub(r"\s+", " ", text)
    return text if len(text) <= SNIPPET_CHARS else text[: SNIPPET_CHARS - 1] + "…"
