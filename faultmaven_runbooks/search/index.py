"""The search index: Chroma chunks kept in step with the library files, and an in-memory
mirror of the same chunks (texts, sections, runbook infos) for the keyword side.

Sync is incremental by content hash: unchanged files are neither parsed nor embedded, deleted
files leave the index. Files are embedded in batches *outside* the lock searches take; each
finished batch is written and shows up in the mirror at once, so a search during a long sync
answers from what is indexed so far, and one huge file never stalls searching. Several
replicas can share one Chroma server: every write stamps a new generation on the collection,
and a replica that sees a stamp it did not write reloads its mirror.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..library.store import RunbookLibrary, file_hash, unique_ids
from ..models import Runbook
from ..settings import Settings
from .embedder import Embedder
from .mirror import LOADING, DocRecord, Mirror
from .records import Row, claimed_id, file_rows, first_chunks, load_mirror
from .store import connect, open_collection, stored_metadata
from .text import MAX_CHUNKS_PER_FILE

log = logging.getLogger(__name__)

BATCH_CHUNKS = 256  # chunks embedded and written per step: a search waits at most one step's write
MIRROR_CHECK_SECONDS = 2.0  # how often a search checks whether another writer changed the collection

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
class IndexStatus:
    """What a sync is doing now, for search messages and health."""

    running: bool = False
    total: int = 0  # runbooks this sync indexes
    done: int = 0


class SearchIndex:
    def __init__(self, settings: Settings, library: RunbookLibrary, embedder: Embedder):
        self.settings = settings
        self.library = library
        self.embedder = embedder
        self._state = threading.RLock()  # Chroma writes and mirror swaps; held for milliseconds
        self._writer = threading.Lock()  # one sync step (parse, embed, write) at a time
        self._client = connect(settings)
        self.collection, self.rebuilt = open_collection(self._client, settings.collection, embedder)
        self._mirror: Mirror | None = None
        self._mirror_checked = 0.0
        self._own_generations: set[str] = set()
        self.status = IndexStatus()
        # Called in the syncing thread after each written step (final=False) and after a sync
        # that changed the index (final=True): the work that follows a change (the keyword
        # index) is done by the writer, not by the next search.
        self.on_change: list[Callable[[bool], None]] = []
        self.writing = 0  # syncs in progress
        self._writing_lock = threading.Lock()

    # -- sync ------------------------------------------------------------------------------
    def _stored(self) -> dict[str, tuple[str, str, str]]:
        """relpath -> (file hash, served id, id the file claims), from each file's first chunk."""
        return {m["path"]: (m["file_hash"], m["runbook_id"], claimed_id(m)) for m in first_chunks(self.collection)}

    def sync(self, relpaths: list[str] | None = None, progress: Progress | None = None) -> SyncReport:
        """Bring the index in line with the files: all of them, or just `relpaths`."""
        started = time.perf_counter()
        report = SyncReport(rebuilt=self.rebuilt)
        full = relpaths is None
        if full:
            self.status = IndexStatus(running=True)
        with self._writing_lock:
            self.writing += 1
        try:
            with self._writer:
                changed, ids = self._plan(relpaths, report)
            if full:
                self.status.total = len(changed)
            done, pending = 0, sorted(changed)
            while pending:
                batch, pending = self._next_batch(pending, changed)
                with self._writer:
                    try:
                        report.chunks += self._add(batch, ids, report)
                        rebuild = False
                    except DimensionChanged as exc:
                        log.warning("%s; re-indexing the whole library", exc)
                        rebuild = True
                if rebuild:
                    return self.sync(None, progress)
                done += len(batch)
                if full:
                    self.status.done = done
                if progress:
                    progress(done, len(changed), batch[-1])
        finally:
            with self._writing_lock:
                self.writing -= 1
            if full:
                self.status.running = False
        if report.indexed or report.removed:
            for callback in self.on_change:
                callback(True)
        report.seconds = time.perf_counter() - started
        self.rebuilt = False
        return report

    def _plan(self, relpaths: list[str] | None, report: SyncReport) -> tuple[dict[str, Runbook], dict[str, str]]:
        """Which files need embedding (parsed), with the id each is served under; removes
        deleted files and files that stopped being runbooks right away."""
        stored = self._stored()
        on_disk = set(self.library.relpaths())
        targets = sorted(on_disk) if relpaths is None else [p for p in relpaths if p in on_disk]
        report.files = len(targets)
        changed: dict[str, Runbook] = {}
        gone = [p for p in stored if p not in on_disk and (relpaths is None or p in relpaths)]
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
                changed[relpath] = parsed
            elif relpath in stored:  # it was a runbook before; it is not one now
                gone.append(relpath)
        if gone:
            self._commit(removed=gone)
            report.removed += len(gone)
        # Ids are unique across the library: a clash (or its end) can change the id of a file
        # that did not change itself, and then that file is re-indexed too.
        claims = {p: claimed for p, (_, _, claimed) in stored.items() if p not in gone}
        claims.update({p: rb.id for p, rb in changed.items()})
        ids = unique_ids(claims)
        for relpath, (_, served, _) in stored.items():
            if relpath in ids and relpath not in changed and ids[relpath] != served:
                parsed = self._parse(relpath, report)
                if parsed is not None:
                    changed[relpath] = parsed
                    report.unchanged = max(0, report.unchanged - 1)
        report.indexed = len(changed)
        return changed, ids

    @staticmethod
    def _next_batch(pending: list[str], changed: dict[str, Runbook]) -> tuple[list[str], list[str]]:
        """Files whose chunks fill about one step; a file is never split across steps."""
        size = 0
        for n, relpath in enumerate(pending):
            size += min(len(changed[relpath].sections) + 1, MAX_CHUNKS_PER_FILE)
            if size >= BATCH_CHUNKS:
                return pending[: n + 1], pending[n + 1:]
        return pending, []

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

    def _add(self, batch: list[str], ids: dict[str, str], report: SyncReport) -> int:
        """Embed a batch of files (no lock held that searches need), then write it. A file that
        another sync indexed meanwhile is skipped; one edited since the plan is read anew."""
        indexed = {m["path"]: (m["file_hash"], m["runbook_id"]) for m in first_chunks(self.collection, batch)}
        records: dict[str, DocRecord] = {}
        rows: list[Row] = []
        for relpath in batch:
            try:
                digest, result = self.library.load(relpath)
            except OSError as exc:
                report.warnings.append(f"{relpath}: cannot be read ({exc})")
                continue
            rb = result.runbook
            served = ids.get(relpath, rb.id) if rb is not None else ""
            if rb is None or indexed.get(relpath) == (digest, served):
                continue
            records[relpath], file_chunks, warning = file_rows(relpath, rb, served, digest)
            rows += file_chunks
            if warning:
                log.warning(warning)
                report.warnings.append(warning)
        if not rows:
            return 0
        vectors = self.embedder.embed([text for _, text, _ in rows])
        self._check_dimension(vectors.shape[1])
        self._commit(records=records, rows=rows, vectors=vectors)
        for callback in self.on_change:
            callback(False)
        return len(rows)

    def _commit(self, records: dict[str, DocRecord] | None = None, rows: list[Row] | None = None,
                vectors: np.ndarray | None = None, removed: list[str] | None = None) -> None:
        """Write one step to Chroma and swap in the mirror that includes it."""
        records = records or {}
        paths = sorted(set(records) | set(removed or []))
        with self._state:
            for i in range(0, len(paths), 100):
                self.collection.delete(where={"path": {"$in": paths[i: i + 100]}})
            if rows:
                self.collection.upsert(
                    ids=[r[0] for r in rows], documents=[r[1] for r in rows],
                    metadatas=[r[2] for r in rows], embeddings=vectors,
                )
            generation = self._stamp_generation()
            if self._mirror is not None:
                docs = {p: rec for p, rec in self._mirror.docs.items() if p not in paths}
                docs.update(records)
                self._mirror = Mirror(docs, self._mirror.version + 1, generation)

    def _check_dimension(self, dimension: int) -> None:
        """Record the model's dimension; vectors of another size mean the model behind the same
        name changed, and the collection is made anew rather than failing at query time."""
        meta = dict(self.collection.metadata or {})
        if meta.get("dimension") == dimension:
            return
        if meta.get("dimension") is not None:
            with self._state:
                self.collection, self.rebuilt = open_collection(
                    self._client, self.settings.collection, self.embedder, dimension)
                self._mirror = None
            raise DimensionChanged(f"embedding dimension changed from {meta['dimension']} to {dimension}")
        meta["dimension"] = dimension
        self.collection.modify(metadata=meta)

    def _generation(self) -> str | None:
        return stored_metadata(self._client, self.settings.collection, self.embedder).get("generation")

    def _stamp_generation(self) -> str:
        """Mark the collection changed for every replica: an edit can leave the chunk count as
        it was, so the count alone does not tell."""
        meta = stored_metadata(self._client, self.settings.collection, self.embedder)
        generation = uuid.uuid4().hex
        self.collection.modify(metadata={**meta, "generation": generation})
        self._own_generations.add(generation)
        return generation

    # -- reading ---------------------------------------------------------------------------
    def mirror(self, wait: float | None = None) -> Mirror:
        """The in-memory view of the collection, reloaded when another writer changed it. The
        first load of a large index takes seconds: a caller that passes `wait` gets an empty
        view (`loading` is set) if the load does not finish by then."""
        mirror = self._mirror
        now = time.monotonic()
        if mirror is not None and now - self._mirror_checked < MIRROR_CHECK_SECONDS:
            return mirror
        if mirror is not None and not self._state.acquire(blocking=False):
            return mirror  # a step is being written; it swaps in a newer mirror when done
        if mirror is None and not self._state.acquire(timeout=-1 if wait is None else wait):
            return LOADING
        try:
            self._mirror_checked = now
            generation = self._generation()
            current = self._mirror
            if current is not None and (generation == current.generation or generation in self._own_generations):
                return current
            self._mirror = self._load_mirror(generation, (current.version + 1) if current else 0)
            return self._mirror
        finally:
            self._state.release()

    def snapshot(self) -> Mirror | None:
        """The mirror as it is, without loading or checking anything."""
        return self._mirror

    def _load_mirror(self, generation: str | None, version: int) -> Mirror:
        return load_mirror(self.collection, generation, version)

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
        return [(cid, 1.0 - float(d)) for cid, d in zip(got["ids"][0], got["distances"][0], strict=True)]
