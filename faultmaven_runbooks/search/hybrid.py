"""Hybrid ranking: dense chunk similarity from Chroma, BM25F and coverage from the keyword
index, names matched whole or in parts; one calibrated confidence per runbook, and results
sorted by exactly that number."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np

from ..memory import release_free_memory
from ..models import RunbookInfo, SearchHit
from . import confidence as conf
from .batching import QueryBatcher, ready_or_loading
from .documents import SearchDoc, build_doc, effective_status
from .embedder import Embedder
from .hits import Match, Ranking, render_hit
from .index import SearchIndex
from .keyword import DocTerms, KeywordIndex, Vocabulary, doc_terms
from .mirror import LOADING, Mirror
from .query import QueryText
from .text import identifiers, spell_out

DENSE_K = 80  # chunks asked from Chroma
KEYWORD_K = 40  # runbooks taken from the top of BM25F
REBUILD_SECONDS = 1.0  # while a sync writes, the writer rebuilds the keyword index at most this often


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

    def hit(self, match: Match, ranking: Ranking) -> SearchHit:
        return render_hit(match, ranking)



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


def _passes(info: RunbookInfo, allowed: set[str] | None, where: dict | None) -> bool:
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
