"""The search index: Chroma chunks kept in step with the library files, plus an in-memory
keyword mirror built from the same chunks.

Sync is incremental by content hash: unchanged files are neither parsed nor embedded, deleted
files leave the index. The keyword mirror is (re)built from the collection, so several
replicas sharing one Chroma server see the same library: every sync that changes the
collection stamps a new generation on it, and each replica checks the stamp every few seconds.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..library.store import RunbookLibrary, file_hash, unique_ids
from ..memory import release_free_memory
from ..models import Runbook, RunbookInfo
from ..settings import Settings
from .embedder import Embedder
from .store import connect, open_collection, stored_metadata
from .text import chunk_runbook

log = logging.getLogger(__name__)

EMBED_BATCH = 256  # chunks embedded per call: big enough for throughput, small enough to report progress
MIRROR_CHECK_SECONDS = 2.0  # how often a search checks whether another writer changed the collection
MIRROR_PAGE = 1000  # chunks fetched per page when the mirror is (re)built

Progress = Callable[[int, int, str], None]


class DimensionChanged(RuntimeError):
    pass


@dataclass
class SyncReport:
    files: int = 0
    indexed: int = 0
    unchanged: int = 0
    removed: int = 0
    skipped: int = 0
    chunks: int = 0
    seconds: float = 0.0
    rebuilt: bool = False
    warnings: list[str] = field(default_factory=list)


@dataclass
class Mirror:
    """What search needs in memory: runbook infos and every chunk's text and owner."""

    infos: dict[str, RunbookInfo]
    chunk_ids: list[str]
    chunk_owner: list[str]
    chunk_section: list[str]
    chunk_text: list[str]
    count: int
    generation: str | None


class SearchIndex:
    def __init__(self, settings: Settings, library: RunbookLibrary, embedder: Embedder):
        self.settings = settings
        self.library = library
        self.embedder = embedder
        self._lock = threading.RLock()
        self._client = connect(settings)
        self.collection, self.rebuilt = open_collection(self._client, settings.collection, embedder)
        self._mirror: Mirror | None = None
        self._mirror_checked = 0.0

    # -- sync ------------------------------------------------------------------------------
    def _stored(self) -> dict[str, tuple[str, str, str]]:
        """relpath -> (file hash, served id, id the file claims), from each file's first chunk."""
        got = self.collection.get(where={"chunk": 0}, include=["metadatas"])
        return {
            m["path"]: (m["file_hash"], m["runbook_id"], m.get("claimed_id", m["runbook_id"]))
            for m in got["metadatas"] or []
        }

    def sync(self, relpaths: list[str] | None = None, progress: Progress | None = None) -> SyncReport:
        """Bring the index in line with the files: all of them, or just `relpaths`."""
        started = time.perf_counter()
        report = SyncReport(rebuilt=self.rebuilt)
        with self._lock:
            stored = self._stored()
            on_disk = set(self.library.relpaths())
            targets = sorted(on_disk) if relpaths is None else [p for p in relpaths if p in on_disk]
            report.files = len(targets)
            changed: dict[str, tuple[str, Runbook]] = {}
            for relpath in targets:
                try:
                    digest = file_hash(self.library.resolve(relpath).read_bytes())
                except OSError as exc:
                    report.warnings.append(f"{relpath}: cannot be read ({exc})")
                    continue
                if relpath in stored and stored[relpath][0] == digest:
                    report.unchanged += 1
                    continue
                parsed = self._parse(relpath, report)
                if parsed is not None:
                    changed[relpath] = (digest, parsed)
                elif relpath in stored:  # it was a runbook before; it is not one now
                    self._delete([relpath])
                    del stored[relpath]
                    report.removed += 1
            gone = [p for p in stored if p not in on_disk and (relpaths is None or p in relpaths)]
            if gone:
                self._delete(gone)
                report.removed += len(gone)
            # Ids are unique across the library: a clash (or its end) can change the id of a
            # file that did not change itself, and then that file is re-indexed too.
            claims = {p: claimed for p, (_, _, claimed) in stored.items() if p not in gone}
            claims.update({p: rb.id for p, (_, rb) in changed.items()})
            ids = unique_ids(claims)
            for relpath, (digest, _, _) in stored.items():
                if relpath in ids and relpath not in changed and ids[relpath] != stored[relpath][1]:
                    parsed = self._parse(relpath, report)
                    if parsed is not None:
                        changed[relpath] = (digest, parsed)
                        report.unchanged = max(0, report.unchanged - 1)
            if changed:
                try:
                    report.chunks = self._add(
                        [(p, digest, rb, ids[p]) for p, (digest, rb) in sorted(changed.items())], progress
                    )
                except DimensionChanged as exc:
                    log.warning("%s; re-indexing the whole library", exc)
                    return self.sync(None, progress)
                report.indexed = len(changed)
            if changed or report.removed:
                self._mirror = None
                self._stamp_generation()
        report.seconds = time.perf_counter() - started
        self.rebuilt = False
        return report

    def _parse(self, relpath: str, report: SyncReport) -> Runbook | None:
        try:
            _, result = self.library.load(relpath)
        except OSError as exc:  # deleted or unreadable since it was hashed
            report.warnings.append(f"{relpath}: cannot be read ({exc})")
            report.skipped += 1
            return None
        report.warnings += [f"{relpath}: {w}" for w in result.warnings]
        if result.runbook is None:
            report.skipped += 1
        return result.runbook

    def _delete(self, relpaths: list[str]) -> None:
        for i in range(0, len(relpaths), 100):
            self.collection.delete(where={"path": {"$in": relpaths[i: i + 100]}})

    def _add(self, changed: list[tuple[str, str, Runbook, str]], progress: Progress | None) -> int:
        """Embed and store the chunks of (relpath, hash, runbook, served id) entries."""
        self._delete([p for p, _, _, _ in changed])
        ids, texts, metas = [], [], []
        for relpath, digest, rb, served_id in changed:
            info = RunbookInfo(**{**rb.model_dump(include=set(RunbookInfo.model_fields)), "id": served_id})
            chunks = list(enumerate(chunk_runbook(rb)))
            # Chunk 0 carries the file hash that marks the file indexed, so it is written last:
            # a sync cut off halfway leaves no hash behind and the next sync redoes the file.
            for n, chunk in chunks[1:] + chunks[:1]:
                ids.append(f"{relpath}#{n}")
                texts.append(chunk.text)
                meta = {
                    "runbook_id": served_id, "claimed_id": rb.id, "path": relpath, "chunk": n,
                    "section": chunk.section,
                    "type": rb.type, "severity": rb.severity, "file_hash": digest,
                }
                if n == 0:
                    meta["info"] = info.model_dump_json()
                metas.append(meta)
        total = len(texts)
        for start in range(0, total, EMBED_BATCH):
            end = min(start + EMBED_BATCH, total)
            vectors = self.embedder.embed(texts[start:end])
            if start == 0:
                self._check_dimension(vectors.shape[1])
            self.collection.upsert(
                ids=ids[start:end], documents=texts[start:end],
                metadatas=metas[start:end], embeddings=vectors,
            )
            if progress:
                progress(end, total, metas[end - 1]["path"])
        return total

    def _check_dimension(self, dimension: int) -> None:
        """Record the model's dimension; vectors of another size mean the model behind the same
        name changed, and the collection is made anew rather than failing at query time."""
        meta = dict(self.collection.metadata or {})
        if meta.get("dimension") == dimension:
            return
        if meta.get("dimension") is not None:
            self.collection, self.rebuilt = open_collection(self._client, self.settings.collection, self.embedder, dimension)
            self._mirror = None
            raise DimensionChanged(f"embedding dimension changed from {meta['dimension']} to {dimension}")
        meta["dimension"] = dimension
        self.collection.modify(metadata=meta)

    def _generation(self) -> str | None:
        return stored_metadata(self._client, self.settings.collection, self.embedder).get("generation")

    def _stamp_generation(self) -> None:
        """Mark the collection changed for every replica: an edit can leave the chunk count as
        it was, so the count alone does not tell."""
        meta = stored_metadata(self._client, self.settings.collection, self.embedder)
        self.collection.modify(metadata={**meta, "generation": uuid.uuid4().hex})

    # -- reading ---------------------------------------------------------------------------
    def mirror(self) -> Mirror:
        """The in-memory view of the collection, rebuilt when another writer changed it."""
        now = time.monotonic()
        mirror = self._mirror
        if mirror is not None and now - self._mirror_checked < MIRROR_CHECK_SECONDS:
            return mirror
        with self._lock:
            count, generation = self.collection.count(), self._generation()
            self._mirror_checked = now
            if self._mirror is not None and (self._mirror.count, self._mirror.generation) == (count, generation):
                return self._mirror
            self._mirror = self._load_mirror(count, generation)
            return self._mirror

    def snapshot(self) -> Mirror | None:
        """The mirror without waiting: the last one built while a sync holds the index."""
        if not self._lock.acquire(blocking=False):
            return self._mirror
        try:
            return self.mirror()
        finally:
            self._lock.release()

    def _load_mirror(self, count: int, generation: str | None) -> Mirror:
        # Paged: one get() of every chunk holds all of them twice in transit, which for a large
        # library was most of the serving process's peak memory.
        rows = []
        for offset in range(0, count, MIRROR_PAGE):
            got = self.collection.get(include=["documents", "metadatas"], limit=MIRROR_PAGE, offset=offset)
            rows += zip(got["ids"], got["documents"], got["metadatas"])
        rows.sort(key=lambda r: (r[2]["path"], r[2]["chunk"]))
        infos = {}
        for _, _, meta in rows:
            if meta["chunk"] == 0:
                info = {**json.loads(meta["info"]), "id": meta["runbook_id"]}
                infos[meta["runbook_id"]] = RunbookInfo(**info)
        mirror = Mirror(
            infos=infos,
            chunk_ids=[r[0] for r in rows],
            chunk_owner=[sys.intern(r[2]["runbook_id"]) for r in rows],
            chunk_section=[r[2]["section"] for r in rows],
            chunk_text=[r[1] for r in rows],
            count=count,
            generation=generation,
        )
        del rows
        release_free_memory()
        return mirror

    def dense(self, vector: np.ndarray, k: int, where: dict | None) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the k nearest chunks."""
        n = min(k, self.mirror().count)  # the mirror's count: asking Chroma costs ms per search
        if n == 0:
            return []
        if (self.collection.metadata or {}).get("dimension", len(vector)) != len(vector):
            try:
                self._check_dimension(len(vector))
            except DimensionChanged as exc:
                log.warning("%s; re-indexing the whole library", exc)
                self.sync()
                return self.dense(vector, k, where)
        got = self.collection.query(query_embeddings=[vector], n_results=n, where=where or None, include=["distances"])
        return [(cid, 1.0 - float(d)) for cid, d in zip(got["ids"][0], got["distances"][0])]
