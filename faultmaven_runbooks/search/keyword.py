"""The keyword side of hybrid search: BM25 (bm25s) over whole runbooks, with the naming
fields (title, first heading, alerts, tags) counted three times, and idf coverage."""

from __future__ import annotations

import math
from collections import Counter

import bm25s
import numpy as np

from .index import Mirror
from .text import stem, head_text, identifiers, tokenize

HEAD_WEIGHT = 2


class KeywordIndex:
    def __init__(self, mirror: Mirror):
        self.ids = list(mirror.infos)
        position = {rid: i for i, rid in enumerate(self.ids)}
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
        self.token_sets = [set(d) for d in docs]
        self.chunk_pos = {cid: i for i, cid in enumerate(mirror.chunk_ids)}
        self.chunk_tokens = [set(tokenize(t)) for t in mirror.chunk_text]
        df = Counter(t for s in self.token_sets for t in s)
        n = max(len(self.ids), 1)
        self.df = df
        self.rare = max(2, n // 100)  # an identifier in at most this many runbooks is telling
        self.idf = {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()}
        self.max_idf = math.log(1 + (n + 0.5) / 0.5)
        self.bm25 = bm25s.BM25()
        if docs:
            self.bm25.index([d or ["<empty>"] for d in docs], show_progress=False)

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        if not self.ids or not query_tokens:
            return np.zeros(len(self.ids))
        known = [t for t in query_tokens if t in self.idf]
        return self.bm25.get_scores(known) if known else np.zeros(len(self.ids))

    def coverage(self, query_tokens: list[str], doc: int) -> float:
        """Share of the query's idf mass this runbook contains (unknown words weigh the most)."""
        unique = set(query_tokens)
        total = sum(self.idf.get(t, self.max_idf) for t in unique)
        if total == 0:
            return 0.0
        return sum(self.idf[t] for t in unique if t in self.token_sets[doc]) / total

    def exact(self, query: str, doc: int) -> tuple[set[str], set[str]]:
        """Identifiers from the query (alert names, error codes) that name this runbook, and
        rare ones its text contains (an error code few runbooks mention)."""
        wanted = identifiers(query)
        named = wanted & self.heads[doc]
        tokens = self.token_sets[doc]
        mentioned = set()
        for ident in wanted - named:
            for form in (ident, stem(ident)):
                if form in tokens and self.df[form] <= self.rare:
                    mentioned.add(ident)
        return named, mentioned
