"""Hybrid ranking: dense chunk similarity from Chroma, BM25F and coverage from the keyword
index, names matched whole or in parts; one calibrated confidence per runbook, and results
sorted by exactly that number."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..memory import release_free_memory
from ..models import MatchSignals, RunbookRef, SearchHit
from . import confidence as conf
from .batching import QueryBatcher, ready_or_loading
from .documents import SearchDoc, build_doc, effective_status
from .embedder import Embedder
from .index import SearchIndex
from .keyword import DocTerms, KeywordIndex, Query, Vocabulary, doc_terms
from .mirror import LOADING, DocRecord, Mirror
from .query import QueryText
from .text import identifiers, spell_out, tokenize

DENSE_K = 80  # chunks asked from Chroma
KEYWORD_K = 40  # runbooks taken from the top of BM25F
SNIPPET_CHARS = 240
REBUILD_SECONDS = 1.0  # while a sync writes, the writer rebuilds the keyword index at most this often


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


class HybridSearcher:
    def __init__(self, index: SearchIndex, embedder: Embedder):
        self.index = index
        self.embedder = embedder
        self.queries = QueryBatcher(embedder)
        self.vocab = Vocabulary()
        self._docs: dict[tuple[str, str, str], tuple[SearchDoc, DocTerms]] = {}
        self._keyword: tuple[int, KeywordIndex] | None = None
        self._built_at = 0.0
        self._lock = threading.Lock()
        index.on_change.append(self._refresh)

    def _refresh(self, final: bool) -> None:
        """After a write, in the writer's thread: rebuild the keyword index if it is in use (after
        a step of a long sync, at most every REBUILD_SECONDS)."""
        if self._keyword is None or self.index.snapshot() is None:
            return
        if final or time.monotonic() - self._built_at >= REBUILD_SECONDS:
            with self._lock:
                mirror = self.index.mirror()
                if self._keyword is None or self._keyword[0] != mirror.version:
                    self._keyword = (mirror.version, self._build(mirror))
                    self._built_at = time.monotonic()

    # -- the keyword index, per mirror version --------------------------------------------
    def keyword(self, mirror: Mirror, wait: float | None = None) -> KeywordIndex | None:
        """The keyword index of this mirror. While a sync writes, searches use the last one and
        the writer rebuilds it. While another thread builds it, a caller passing `wait` gets the
        last one after that long, or None when there is none yet (the first build of a large
        library takes seconds)."""
        current = self._keyword
        if current is not None and (current[0] == mirror.version or self.index.writing):
            return current[1]  # while a sync writes, the writer rebuilds it (see _refresh)
        if not self._lock.acquire(timeout=-1 if wait is None else wait):
            return current[1] if current is not None else None
        try:
            current = self._keyword
            if current is not None and current[0] == mirror.version:
                return current[1]
            kw = self._build(mirror)
            self._keyword = (mirror.version, kw)
            self._built_at = time.monotonic()
            return kw
        finally:
            self._lock.release()

    def _build(self, mirror: Mirror) -> KeywordIndex:
        docs, terms, keep = [], [], {}
        for path in sorted(mirror.docs):
            rec = mirror.docs[path]
            key = (path, rec.file_hash, rec.info.id)
            entry = self._docs.get(key)
            if entry is None:
                doc = build_doc(rec.info, list(rec.sections), list(rec.texts))
                entry = (doc, doc_terms(doc, self.vocab))
                doc.name = doc.lead = doc.body = ""  # tokenised: at 100k chunks the texts are 100 MB kept twice
            keep[key] = entry
            docs.append(entry[0])
            terms.append(entry[1])
        self._docs = keep
        kw = KeywordIndex(docs, terms, self.vocab)
        release_free_memory()  # the build's temporary arrays: tens of MB at 100k chunks
        return kw

    # -- ranking ---------------------------------------------------------------------------
    def rank(
        self, query: QueryText, where: dict | None = None, allowed: set[str] | None = None,
        boost: Callable[[str], float] | None = None, wait: float | None = None,
    ) -> Ranking:
        """Candidates best first. `wait`: how long to wait for a first load of the index by
        another thread before answering with nothing (`loading` set)."""
        mirror = self.index.mirror(wait)
        kw = self.keyword(mirror, wait) if mirror is not LOADING else None
        if kw is None:
            kw = KeywordIndex([], [], self.vocab)
            return Ranking([], kw, mirror, query, kw.prepare(""), loading=True)
        terms = kw.prepare(query.topic)
        if not kw.n:
            return Ranking([], kw, mirror, query, terms)
        model_ready = ready_or_loading(self.embedder)
        hits = self.index.dense(self.queries.embed_one(spell_out(query.topic)), DENSE_K, where) if model_ready else []
        dense, floor = _best_chunks(hits, kw, mirror)
        bm, coverage, lead, rare = kw.scores(terms)
        # A query that is only a code or two names the runbooks that mention it, if few do and
        # no runbook carries it as its name.
        named = kw.named(query.names, query.name_only)
        coded = kw.mentioning(identifiers(query.topic)) if query.name_only and not named else set()
        candidates = set(dense) | named | coded
        if bm.max(initial=0.0) > 0:
            candidates |= set(np.argsort(-bm)[:KEYWORD_K].tolist())
        for stub, target in kw.stub_target.items():  # a stub means what its target means
            if target in dense and dense[target][0] > dense.get(stub, (floor, 0))[0]:
                dense[stub] = (dense[target][0], -1)
                candidates.add(stub)
        if allowed is not None or where:
            candidates = {d for d in candidates if _passes(kw.docs[d].info, allowed, where)}
        if not candidates:
            return Ranking([], kw, mirror, query, terms, model_ready)
        docs = sorted(candidates)
        sims = np.array([dense.get(d, (floor * 0.95, 0))[0] for d in docs], dtype=np.float32)
        rows = np.zeros((len(docs), len(conf.FEATURES)), dtype=np.float32)
        rows[:, 0] = sims
        rows[:, 1] = bm[docs] / max(float(bm[docs].max()), 1e-9)
        rows[:, 2] = coverage[docs]
        rows[:, 3] = lead[docs]
        rows[:, 4] = rare[docs]
        rows[:, 5:8] = [(1.0, 0.0, 0.0) if d in coded else kw.name_match(query.names, d, query.name_only)
                        for d in docs]
        rows[:, 8] = [kw.name_coverage(terms, d) for d in docs]
        rows[:, 9] = sims - sims.max()
        adjust = np.array([
            conf.adjustment(kw.docs[d].kind == "index", effective_status(kw.docs[d].info),
                            boost(kw.ids[d]) if boost is not None else 1.0)
            for d in docs
        ], dtype=np.float32)
        return Ranking(_score(docs, rows, adjust, dense, kw), kw, mirror, query, terms, model_ready)

    # -- rendering -------------------------------------------------------------------------
    def hit(self, match: Match, ranking: Ranking) -> SearchHit:
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


def _best_chunks(hits: list[tuple[str, float]], kw: KeywordIndex, mirror: Mirror
                 ) -> tuple[dict[int, tuple[float, int]], float]:
    """Runbook -> (similarity, chunk) of its closest chunk among the dense hits, and the last
    hit's similarity (a bound for runbooks no hit reached)."""
    dense: dict[int, tuple[float, int]] = {}
    floor = 0.0
    for cid, sim in hits:
        found = mirror.chunk(cid)
        doc = kw.position.get(found[0].info.id) if found else None
        if found is not None and doc is not None and (doc not in dense or sim > dense[doc][0]):
            dense[doc] = (sim, found[1])
        floor = sim
    return dense, floor


def _score(docs: list[int], rows: np.ndarray, adjust: np.ndarray, dense: dict, kw: KeywordIndex) -> list[Match]:
    """Matches best first: scored, near-duplicates folded, calibrated."""
    scores = conf.evidence(rows, adjust)
    matches = [Match(d, rows[i], float(scores[i]), chunk=_chunk(dense.get(d))) for i, d in enumerate(docs)]
    keep = _fold_duplicates(matches, kw.group)
    index_of = {id(m): i for i, m in enumerate(matches)}
    kept = np.array([index_of[id(m)] for m in keep])
    for m, p in zip(keep, conf.confidence(rows[kept], scores[kept]), strict=True):
        m.relevance = float(p)
    keep.sort(key=lambda m: (-m.relevance, -m.score, kw.ids[m.doc]))
    return keep


def _chunk(found: tuple[float, int] | None) -> int | None:
    """The chunk a dense hit names; none for a stub scored by its target's meaning."""
    return found[1] if found is not None and found[1] >= 0 else None


def _passes(info, allowed: set[str] | None, where: dict | None) -> bool:
    if allowed is not None and info.id not in allowed:
        return False
    if where:
        clauses = where.get("$and", [where])
        return all(getattr(info, key) == value for clause in clauses for key, value in clause.items())
    return True


def _fold_duplicates(matches: list[Match], group: dict[int, int]) -> list[Match]:
    """Near-duplicates are one answer: the best of each group stays, the others become its
    `also_in`, so either copy counts and neither pushes a different runbook off the list."""
    best: dict[int, Match] = {}
    out = []
    for m in sorted(matches, key=lambda m: -m.score):
        root = group.get(m.doc)
        if root is None:
            out.append(m)
        elif root in best:
            best[root].also.append(m.doc)
        else:
            best[root] = m
            out.append(m)
    return out


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
