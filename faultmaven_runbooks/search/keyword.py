"""The keyword side of hybrid search: BM25 (bm25s) over whole runbooks, with the naming
fields (title, aliases, alerts, tags) counted twice, and idf coverage."""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from collections import Counter

import bm25s
import numpy as np

from ..memory import release_free_memory
from .index import Mirror
from .text import stem, head_text, identifiers, tokenize

HEAD_WEIGHT = 2


class KeywordIndex:
    def __init__(self, mirror: Mirror):
        self.ids = list(mirror.infos)
        self.position = position = {rid: i for i, rid in enumerate(self.ids)}
        docs: list[list[str]] = [[] for _ in self.ids]
        for owner, text in zip(mirror.chunk_owner, mirror.chunk_text):
            if owner in position:
                docs[position[owner]].extend(tokenize(text))
        self.heads: list[set[str]] = []
        for i, rid in enumerate(self.ids):
            info = mirror.infos[rid]
            head = f"{head_text(info)} {info.path.rsplit('/', 1)[-1][:-3]}"
            docs[i].extend(tokenize(head) * HEAD_WEIGHT)
            self.heads.append(identifiers(head))
        self.token_sets = [{sys.intern(t) for t in d} for d in docs]
        self.chunk_pos = {cid: i for i, cid in enumerate(mirror.chunk_ids)}
        self.chunks_of: dict[str, list[int]] = {}
        for pos, owner in enumerate(mirror.chunk_owner):
            self.chunks_of.setdefault(owner, []).append(pos)
        df = Counter(t for s in self.token_sets for t in s)
        n = max(len(self.ids), 1)
        self.df = df
        self.rare = max(2, n // 100)  # an identifier in at most this many runbooks is telling
        self.idf = {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()}
        self.max_idf = math.log(1 + (n + 0.5) / 0.5)
        self.bm25 = bm25s.BM25()
        if docs:
            self.bm25.index([d or ["<empty>"] for d in docs], show_progress=False)
        del docs
        release_free_memory()

    def prepare(self, text: str) -> "Query":
        tokens = tokenize(text)
        unique = set(tokens)
        return Query(text, tokens, unique, sum(self.idf.get(t, self.max_idf) for t in unique), identifiers(text))

    def scores(self, query: "Query") -> np.ndarray:
        known = [t for t in query.tokens if t in self.idf]
        if not self.ids or not known:
            return np.zeros(len(self.ids))
        return self.bm25.get_scores(known)

    def coverage(self, query: "Query", doc: int) -> float:
        """Share of the query's idf mass this runbook contains (unknown words weigh the most)."""
        if query.idf_total == 0:
            return 0.0
        tokens = self.token_sets[doc]
        return sum(self.idf[t] for t in query.unique if t in tokens) / query.idf_total

    def exact(self, query: "Query", doc: int) -> tuple[set[str], set[str]]:
        """Identifiers from the query (alert names, error codes) that name this runbook, and
        rare ones its text contains (an error code few runbooks mention)."""
        named = query.identifiers & self.heads[doc]
        tokens = self.token_sets[doc]
        mentioned = set()
        for ident in query.identifiers - named:
            for form in (ident, stem(ident)):
                if form in tokens and self.df[form] <= self.rare:
                    mentioned.add(ident)
        return named, mentioned


@dataclass(frozen=True)
class Query:
    """A query's text features, computed once per search."""

    text: str
    tokens: list[str]
    unique: set[str]
    idf_total: float
    identifiers: set[str]
