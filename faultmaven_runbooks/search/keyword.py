"""The keyword side of search: BM25F over each runbook's fields, coverage of the query's
words, identifier matching in parts, near-duplicates and where stubs point.

BM25F (per-field length normalisation, field weights, one saturation) instead of BM25 over
whole files: a long runbook from another folder mentions every word somewhere, but only the
right one has them in its name and its Meaning section. Term counts are cached per document
version, so rebuilding the index while a large library is being indexed costs array work,
not tokenising.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from .documents import SearchDoc, resolve_link
from .text import stem, tokenize

# field: (weight, length normalisation b). A word in the name counts as five in the body.
FIELDS = {"name": (5.0, 0.5), "lead": (2.0, 0.75), "body": (1.0, 0.75)}
K1 = 1.2
RARE_WORDS = 3  # the query's rarest known words: what sets it apart from its siblings
PREFIX_CHARS = 4  # names abbreviate: 'Config' is 'configuration', 'Repl' is 'replication'
DUPLICATE_OVERLAP = 0.8  # share of the smaller runbook's distinct words two of the same name must share


class Vocabulary:
    """Term -> column, grown as documents arrive; shared by every index built in a process."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self._lock = threading.Lock()

    def encode(self, tokens: list[str]) -> tuple[np.ndarray, np.ndarray]:
        counts = Counter(tokens)
        with self._lock:
            cols = [self.ids.setdefault(t, len(self.ids)) for t in counts]
        return np.asarray(cols, dtype=np.int32), np.asarray(list(counts.values()), dtype=np.float32)

    def lookup(self, tokens: list[str]) -> list[int | None]:
        return [self.ids.get(t) for t in tokens]


@dataclass
class DocTerms:
    fields: dict[str, tuple[np.ndarray, np.ndarray]]  # field -> (columns, counts)
    lengths: dict[str, float]
    name_parts: list[tuple[str, tuple[str, ...]]]


def doc_terms(doc: SearchDoc, vocab: Vocabulary) -> DocTerms:
    fields, lengths = {}, {}
    for fname, text in (("name", doc.name), ("lead", doc.lead), ("body", doc.body)):
        tokens = tokenize(text)
        fields[fname] = vocab.encode(tokens)
        lengths[fname] = float(len(tokens))
    return DocTerms(fields, lengths, doc.names)


@dataclass(frozen=True)
class Query:
    """A query's keyword features, computed once per search."""

    cols: np.ndarray  # known terms (unique)
    terms: tuple[str, ...]  # the same terms, as words
    idf: np.ndarray  # their idf
    tokens: frozenset[str]
    idf_total: float  # including words no runbook has, at the highest idf
    mentioned: frozenset[int] = frozenset()  # name words (ids) the query says, whole or abbreviated


class KeywordIndex:
    def __init__(self, docs: list[SearchDoc], terms: list[DocTerms], vocab: Vocabulary):
        self.docs = docs
        self.ids = [d.info.id for d in docs]
        self.position = {rid: i for i, rid in enumerate(self.ids)}
        self.vocab = vocab
        self.n = len(docs)
        self.stub_target = self._stub_targets()
        self.tf, self.lead = self._matrices(terms)
        df = np.diff(self.tf.indptr)  # stored entries per column (duplicates summed) = documents holding the term
        self.idf = np.log1p((self.n - df + 0.5) / (df + 0.5)).astype(np.float32)
        self.max_idf = float(math.log1p((self.n + 0.5) / 0.5))
        self._index_names(terms)
        self.group = self._duplicates(terms)

    def _stub_targets(self) -> dict[int, int]:
        """Stub -> the runbook it points to, when that runbook is in the library."""
        by_path = {d.path: i for i, d in enumerate(self.docs)}
        by_stem: dict[str, list[int]] = {}
        for i, d in enumerate(self.docs):
            by_stem.setdefault(d.stem.lower(), []).append(i)
        found = {}
        for i, d in enumerate(self.docs):
            if d.kind == "stub":
                for link in d.links:
                    target = resolve_link(link, d.path, by_path, by_stem)
                    if target is not None and target != i:
                        found[i] = target
                        break
        return found

    def _matrices(self, terms: list[DocTerms]) -> tuple[sparse.csc_matrix, sparse.csc_matrix]:
        """(BM25F term weights: field weight / length normalisation x count, summed over the
        fields; where each term is in a name or lead) as documents x terms."""
        rows, cols, data = [], [], []
        lead_rows, lead_cols = [], []
        avg = {f: max(np.mean([t.lengths.get(f, 0.0) for t in terms]) if terms else 1.0, 1.0) for f in FIELDS}
        for i, t in enumerate(terms):
            # A stub is read as the runbook it points to: its lead and body are the target's too,
            # so only the names tell the two apart.
            inherit = terms[self.stub_target[i]] if i in self.stub_target else None
            for f in FIELDS:
                parts = [t.fields[f]] + ([inherit.fields[f]] if inherit is not None and f != "name" else [])
                length = t.lengths[f] + (inherit.lengths[f] if inherit is not None and f != "name" else 0.0)
                weight, b = FIELDS[f]
                norm = 1 - b + b * length / avg[f]
                for c, k in parts:
                    rows.append(np.full(len(c), i, dtype=np.int64))
                    cols.append(c)
                    data.append(k * (weight / norm))
                    if f in ("name", "lead"):
                        lead_rows.append(np.full(len(c), i, dtype=np.int64))
                        lead_cols.append(c)

        def cat(xs: list[np.ndarray], dtype) -> np.ndarray:
            return np.concatenate(xs) if xs else np.zeros(0, dtype=dtype)

        shape = (self.n, len(self.vocab.ids))
        tf = sparse.csc_matrix((cat(data, np.float32), (cat(rows, np.int64), cat(cols, np.int64))), shape=shape,
                               dtype=np.float32)
        lead = sparse.csc_matrix((np.ones(sum(len(r) for r in lead_rows), dtype=np.float32),
                                  (cat(lead_rows, np.int64), cat(lead_cols, np.int64))), shape=shape, dtype=np.float32)
        return tf, lead

    def _index_names(self, terms: list[DocTerms]) -> None:
        """Names by key (exact matches), title codes, and name words by id and by prefix."""
        self.name_parts = [t.name_parts for t in terms]
        self.name_words = [[(frozenset(parts), Counter(parts)) for _, parts in names] for names in self.name_parts]
        self.part_ids: dict[str, int] = {}
        self.part_prefixes: dict[str, set[int]] = {}
        for names in self.name_parts:
            for _, parts in names:
                for part in parts:
                    if part not in self.part_ids:
                        pid = self.part_ids[part] = len(self.part_ids)
                        for k in range(PREFIX_CHARS, len(part)):
                            self.part_prefixes.setdefault(part[:k], set()).add(pid)
        self.name_sets = [[frozenset(self.part_ids[p] for p in parts) for _, parts in names]
                          for names in self.name_parts]
        self.by_key: dict[str, list[int]] = {}
        self.by_code: dict[str, list[int]] = {}
        for i, names in enumerate(self.name_parts):
            if self.docs[i].kind == "index":
                continue
            for key, _ in names:
                self.by_key.setdefault(key, []).append(i)
            for code in self.docs[i].codes:
                self.by_code.setdefault(code, []).append(i)

    # -- near-duplicates -------------------------------------------------------------------
    def _duplicates(self, terms: list[DocTerms]) -> dict[int, int]:
        """Document -> the first document of its group of near-duplicates: runbooks that share
        a name and most of their words (the same alert documented by two sources)."""
        parent = list(range(self.n))

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        words = {}
        for members in self.by_key.values():
            if len(members) < 2:
                continue
            for a in members:
                for b in members:
                    if a >= b or find(a) == find(b):
                        continue
                    for i in (a, b):
                        if i not in words:
                            t = terms[i]
                            words[i] = set(t.fields["body"][0].tolist()) | set(t.fields["lead"][0].tolist())
                    smaller = min(len(words[a]), len(words[b]))
                    if smaller >= 10 and len(words[a] & words[b]) / smaller >= DUPLICATE_OVERLAP:
                        parent[find(b)] = find(a)
        # Two stubs of one name pointing at copies of one runbook are copies too.
        for members in self.by_key.values():
            stubs = [i for i in members if i in self.stub_target]
            for a in stubs:
                for b in stubs:
                    if a < b and find(self.stub_target[a]) == find(self.stub_target[b]):
                        parent[find(b)] = find(a)
        roots = [find(i) for i in range(self.n)]
        size = Counter(roots)
        return {i: root for i, root in enumerate(roots) if size[root] > 1}

    # -- query -----------------------------------------------------------------------------
    def prepare(self, text: str) -> Query:
        tokens = tokenize(text)
        unique = list(dict.fromkeys(tokens))
        found = [(c, t) for c, t in zip(self.vocab.lookup(unique), unique, strict=True)
                 if c is not None and c < self.tf.shape[1]]
        cols = np.asarray([c for c, _ in found], dtype=np.int64)
        idf = self.idf[cols] if len(cols) else np.zeros(0, dtype=np.float32)
        missing = len(unique) - len(found)
        weight = float(idf.sum()) + missing * self.max_idf
        return Query(cols, tuple(t for _, t in found), idf, frozenset(unique), weight, self._mentioned(unique))

    def _mentioned(self, tokens: list[str]) -> frozenset[int]:
        """Name words the query says: whole, as the start of a longer query word, or starting
        with a query word ('Config' in BadConfig and 'configuration' meet both ways)."""
        found: set[int] = set()
        for t in tokens:
            if t in self.part_ids:
                found.add(self.part_ids[t])
            for k in range(PREFIX_CHARS, len(t)):
                if t[:k] in self.part_ids:
                    found.add(self.part_ids[t[:k]])
            if len(t) >= PREFIX_CHARS:
                found |= self.part_prefixes.get(t, set())
        return frozenset(found)

    def scores(self, q: Query) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(BM25F, coverage, lead coverage, rare-word coverage) for every document."""
        if not len(q.cols) or not self.n:
            zeros = np.zeros(self.n, dtype=np.float32)
            return zeros, zeros, zeros, zeros
        x = self.tf[:, q.cols].toarray()
        bm = (x * (K1 + 1) / (x + K1)) @ q.idf
        total = max(q.idf_total, 1e-9)
        present = x > 0
        coverage = present @ q.idf / total
        lead = (self.lead[:, q.cols].toarray() > 0) @ q.idf / total
        rare = np.argsort(-q.idf)[:RARE_WORDS]
        rare_coverage = present[:, rare] @ q.idf[rare] / max(float(q.idf[rare].sum()), 1e-9)
        return bm, coverage, lead, rare_coverage

    def named(self, names: list[tuple[str, tuple[str, ...]]], name_only: bool = False) -> set[int]:
        """Documents a query names exactly, by any way of writing the name (one-word names only
        when the query is nothing but names; see name_match). A query that is only a name also
        names the runbooks with that name in their title: 'OOMKilled' -> 'Container OOMKilled
        (Memory Limit Exceeded)'."""
        found = {i for key, parts in names for i in self.by_key.get(key, [])
                 if name_only or any(k == key and len(p) > 1 for k, p in self.name_parts[i])}
        if name_only:
            found |= {i for key, _ in names for i in self.by_code.get(key, [])}
        return found

    def mentioning(self, codes: set[str]) -> set[int]:
        """Documents containing one of these codes (ENOSPC, x509, CrashLoopBackOff) when few do:
        an error code only one or two runbooks mention names them as well as a title would."""
        rare = max(2, self.n // 100)
        found: set[int] = set()
        for code in codes:
            for form in {code, stem(code)}:
                col = self.vocab.ids.get(form)
                if col is None or col >= self.tf.shape[1]:
                    continue
                start, end = self.tf.indptr[col], self.tf.indptr[col + 1]
                if end - start <= rare:
                    found.update(self.tf.indices[start:end].tolist())
        return found

    def name_match(self, names: list[tuple[str, tuple[str, ...]]], doc: int,
                   name_only: bool = False) -> tuple[float, float, float]:
        """(exact, prefix, overlap) between the names in the query and the runbook's names.

        exact: 1 when a name in the query is one of the runbook's, however written. A one-word
        name ('HAProxy', 'GitLab') inside a longer text is a product the text mentions, not the
        runbook it asks for: it counts as exact only when the query is nothing but names.
        prefix: a name in the query begins the runbook's, as a share of its words: 'KubeAPI' in
        an alert text is two thirds of KubeAPIDown.
        overlap: words shared in any order (Dice): 'etcdDatabaseQuotaLowSpace' and
        etcdBackendQuotaLowSpace share four of five. Both stay below 1, so an exact name wins."""
        prefix = overlap = 0.0
        if name_only and any(key in self.docs[doc].codes for key, _ in names) and self.docs[doc].kind != "index":
            return 1.0, 0.0, 0.0
        for key, parts in names:
            for (dkey, dparts), (dset, dcount) in zip(self.name_parts[doc], self.name_words[doc], strict=True):
                if key == dkey and self.docs[doc].kind != "index" and (name_only or len(dparts) > 1):
                    return 1.0, 0.0, 0.0
                if len(parts) < 2 or len(dparts) < 2 or dset.isdisjoint(parts):
                    continue
                if len(parts) < len(dparts) and dparts[: len(parts)] == parts:
                    prefix = max(prefix, len(parts) / len(dparts))
                common = sum((Counter(parts) & dcount).values())
                overlap = max(overlap, 0.9 * 2 * common / (len(parts) + len(dparts)))
        return 0.0, prefix, overlap

    def name_coverage(self, q: Query, doc: int) -> float:
        """Share of the runbook's name the query mentions (its best name): of two sibling alerts,
        the one whose extra word the query lacks scores lower."""
        return max((len(words & q.mentioned) / len(words) for words in self.name_sets[doc] if words), default=0.0)

    def shared_words(self, q: Query, doc: int, limit: int = 8) -> list[str]:
        """Query words this runbook contains, rarest first."""
        if not len(q.cols):
            return []
        present = self.tf[doc, q.cols].toarray()[0] > 0
        ranked = sorted((-float(w), t) for t, w, p in zip(q.terms, q.idf, present, strict=True) if p)
        return [t for _, t in ranked[:limit]]
