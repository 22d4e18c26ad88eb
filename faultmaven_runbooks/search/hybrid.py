"""Hybrid ranking: dense chunk similarity from Chroma, BM25 and idf coverage from the keyword
index, exact identifier matches; fused per runbook, with an honest confidence."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..models import SearchHit
from .embedder import Embedder
from .index import Mirror, SearchIndex
from .keyword import KeywordIndex
from .text import identifiers, tokenize

DENSE_K = 60  # chunks asked from Chroma; runbooks outside them fall back to the weakest seen
SNIPPET_CHARS = 240

# Weights of the fused score and the confidence bar, tuned on the benchmark in
# benchmarks/retrieval_quality.py (see README for the figures).
W_DENSE, W_BM25, W_COVER, W_EXACT = 0.5, 0.3, 0.2, 0.35
CONFIDENT = 0.38
# A query that is only a name (an alert name, an error code) and names no runbook is most
# likely about something the library lacks: similar-sounding names are not confident matches.
NAME_ONLY_DISCOUNT = 0.6
SHORT_QUERY_WORDS = 6


@dataclass
class Match:
    doc: int
    score: float
    relevance: float
    dense: float
    bm25: float
    coverage: float
    exact: set[str]
    mentioned: set[str]
    chunk: int | None


class HybridSearcher:
    def __init__(self, index: SearchIndex, embedder: Embedder):
        self.index = index
        self.embedder = embedder
        self._keyword: KeywordIndex | None = None
        self._keyword_of: Mirror | None = None
        self._keyword_lock = threading.Lock()

    def keyword(self, mirror: Mirror) -> KeywordIndex:
        """The keyword index of exactly this mirror, built once even under concurrent searches."""
        with self._keyword_lock:
            if self._keyword_of is not mirror:
                self._keyword = KeywordIndex(mirror)
                self._keyword_of = mirror
            return self._keyword

    def rank(
        self, query: str, where: dict | None = None, allowed: set[str] | None = None,
        boost: Callable[[str], float] | None = None,
    ) -> tuple[list[Match], KeywordIndex, Mirror]:
        """Candidates from both retrievers, best first. `boost(runbook_id)` scales a runbook's
        fused score (the service passes learned outcomes)."""
        mirror = self.index.mirror()
        kw = self.keyword(mirror)
        if not kw.ids:
            return [], kw, mirror
        q = kw.prepare(query)
        vector = self.embedder.embed([query])[0]
        best_dense: dict[int, tuple[float, int]] = {}
        floor = 0.0
        name_only = is_name_only(query)
        # A rare identifier the text mentions is telling in a short query ("disk full ENOSPC"),
        # noise in a pasted alert description full of pod names and addresses.
        short = len(query.split()) <= SHORT_QUERY_WORDS
        for cid, sim in self.index.dense(vector, DENSE_K, where):
            pos = kw.chunk_pos.get(cid)
            if pos is None:
                continue
            doc = kw.position.get(mirror.chunk_owner[pos])
            if doc is not None and (doc not in best_dense or sim > best_dense[doc][0]):
                best_dense[doc] = (sim, pos)
            floor = sim
        bm25 = kw.scores(q)
        top_bm25 = float(bm25.max()) if len(bm25) else 0.0
        candidates = set(best_dense) | set(np.argsort(-bm25)[:DENSE_K].tolist() if top_bm25 > 0 else [])
        matches = []
        for doc in candidates:
            rid = kw.ids[doc]
            if allowed is not None and rid not in allowed:
                continue
            dense, chunk = best_dense.get(doc, (floor * 0.95, None))
            bm = float(bm25[doc]) / top_bm25 if top_bm25 > 0 else 0.0
            cover = kw.coverage(q, doc)
            exact, mentioned = kw.exact(q, doc)
            mentioned = mentioned if short else set()
            score = W_DENSE * dense + W_BM25 * bm + W_COVER * cover
            score += W_EXACT if exact else W_EXACT / 2 if mentioned else 0.0
            if boost is not None:
                score *= boost(rid)
            relevance = 0.8 * max(dense, 0.0) + 0.2 * cover
            if name_only and not (exact or mentioned):
                relevance *= NAME_ONLY_DISCOUNT
            relevance = min(1.0, relevance + (0.5 if exact else 0.3 if mentioned else 0.0))
            matches.append(Match(doc, score, relevance, dense, bm, cover, exact, mentioned, chunk))
        matches.sort(key=lambda m: -m.score)
        return matches, kw, mirror

    @staticmethod
    def _best_chunk(kw: KeywordIndex, mirror: Mirror, rid: str, words: set[str]) -> int | None:
        """For a runbook found by keywords alone: its chunk mentioning the most query words."""
        def hits(pos: int) -> int:
            text = mirror.chunk_text[pos].lower()
            return sum(w in text for w in words)

        return max(kw.chunks_of.get(rid, []), key=hits, default=None)

    def hit(self, match: Match, kw: KeywordIndex, mirror: Mirror, query: str) -> SearchHit:
        info = mirror.infos[kw.ids[match.doc]]
        section, snippet = "", info.summary
        words = set(tokenize(query))
        if match.chunk is None:
            match.chunk = self._best_chunk(kw, mirror, info.id, words)
        if match.chunk is not None:
            section = mirror.chunk_section[match.chunk]
            snippet = snippet_of(mirror.chunk_text[match.chunk], words)
        return SearchHit(
            id=info.id, title=info.title, type=info.type, severity=info.severity,
            relevance_score=round(match.relevance, 3), summary=info.summary,
            last_updated=info.last_updated, path=info.path, section=section or "(summary)",
            snippet=snippet, why=why(match, kw, query), tags=info.tags,
        )


def is_name_only(query: str) -> bool:
    words = query.split()
    return len(words) <= 3 and all(identifiers(w) for w in words)


def why(match: Match, kw: KeywordIndex, query: str) -> str:
    parts = []
    if match.exact:
        parts.append("exact name: " + ", ".join(sorted(match.exact)))
    if match.mentioned:
        parts.append("rare identifier in text: " + ", ".join(sorted(match.mentioned)))
    shared = [t for t in dict.fromkeys(tokenize(query)) if t in kw.token_sets[match.doc]]
    if shared:
        parts.append("keywords: " + ", ".join(shared[:8]))
    parts.append(f"meaning similarity {match.dense:.2f}")
    return "; ".join(parts)


def snippet_of(chunk_text: str, words: set[str]) -> str:
    """The lines of a chunk that share the most query words, about 240 characters.

    Lines are scored by substring hits of the (stemmed) query words: cheap, and close enough
    for choosing where a snippet starts."""
    lines = [l.strip() for l in chunk_text.splitlines()[1:] if l.strip() and not l.startswith("```")]
    if not lines:
        return chunk_text[:SNIPPET_CHARS]
    lowered = [l.lower() for l in lines]
    start = max(range(len(lines)), key=lambda i: (sum(w in lowered[i] for w in words), -i))
    text = ""
    for line in lines[start:]:
        text = f"{text} {line}".strip()
        if len(text) >= SNIPPET_CHARS:
            break
    text = re.sub(r"\s+", " ", text)
    return text if len(text) <= SNIPPET_CHARS else text[: SNIPPET_CHARS - 1] + "…"
