"""How a runbook is stored in the Chroma collection, and read back.

A file becomes one row per chunk: id `<path>#<n>`, the chunk's text, and metadata naming the
runbook (served id, claimed id, path, section, type, severity) and the file's hash. Chunk 0
also carries the runbook's info as JSON, and it is the row that marks the file indexed. The
mirror search keeps in memory is rebuilt from these rows; writing and reading the format live
here together so they cannot drift apart.
"""

from __future__ import annotations

import json
import logging
import sys
from itertools import islice
from typing import Any

from ..memory import release_free_memory
from ..models import Runbook, RunbookInfo
from .mirror import DocRecord, Mirror
from .text import MAX_CHUNKS_PER_FILE, iter_chunks

log = logging.getLogger(__name__)

MIRROR_PAGE = 1000  # chunks fetched per page when the mirror is (re)built

Row = tuple[str, str, dict[str, Any]]  # (chunk id, text, metadata)


def first_chunks(collection: Any, paths: list[str] | None = None) -> list[dict[str, Any]]:
    """The metadata of chunk 0 of every indexed file, or of those of `paths`."""
    where: dict[str, Any] = {"chunk": 0} if paths is None else {"$and": [{"chunk": 0}, {"path": {"$in": paths}}]}
    return collection.get(where=where, include=["metadatas"])["metadatas"] or []


def claimed_id(meta: dict[str, Any]) -> str:
    """The id the file itself claims (its served id differs when another file holds that one)."""
    return meta.get("claimed_id", meta["runbook_id"])


def file_rows(relpath: str, rb: Runbook, served: str, digest: str) -> tuple[DocRecord, list[Row], str | None]:
    """The mirror record and the rows of one parsed file, with a warning when it has more
    chunks than are kept."""
    warning = None
    chunks = list(islice(iter_chunks(rb), MAX_CHUNKS_PER_FILE + 1))
    if len(chunks) > MAX_CHUNKS_PER_FILE:
        chunks = chunks[:MAX_CHUNKS_PER_FILE]
        warning = (f"{relpath}: more than {MAX_CHUNKS_PER_FILE} chunks; only the first "
                   f"{MAX_CHUNKS_PER_FILE} are searchable (split the file to search all of it)")
    info = RunbookInfo(**{**rb.model_dump(include=set(RunbookInfo.model_fields)), "id": served})
    record = DocRecord(info, digest, rb.id, tuple(sys.intern(c.section) for c in chunks),
                       tuple(c.text for c in chunks))
    rows: list[Row] = []
    # Chunk 0 carries the file hash that marks the file indexed, so it is written last:
    # a sync cut off halfway leaves no hash behind and the next sync redoes the file.
    for n, chunk in list(enumerate(chunks))[1:] + [(0, chunks[0])]:
        meta: dict[str, Any] = {"runbook_id": served, "claimed_id": rb.id, "path": relpath, "chunk": n,
                                "section": chunk.section, "type": rb.type, "severity": rb.severity,
                                "file_hash": digest}
        if n == 0:
            meta["info"] = info.model_dump_json()
        rows.append((f"{relpath}#{n}", chunk.text, meta))
    return record, rows, warning


def load_mirror(collection: Any, generation: str | None, version: int) -> Mirror:
    """The mirror of everything in the collection; a file without its chunk 0 is half-written
    and left out."""
    # Paged: one get() of every chunk holds all of them twice in transit, which for a large
    # library was most of the serving process's peak memory.
    count = collection.count()
    chunks: dict[str, list[tuple[int, str, str]]] = {}
    firsts: dict[str, dict[str, Any]] = {}
    for offset in range(0, count, MIRROR_PAGE):
        got = collection.get(include=["documents", "metadatas"], limit=MIRROR_PAGE, offset=offset)
        for text, meta in zip(got["documents"], got["metadatas"], strict=True):
            chunks.setdefault(meta["path"], []).append((meta["chunk"], meta["section"], text))
            if meta["chunk"] == 0:
                firsts[meta["path"]] = meta
    docs = {}
    for path, meta in firsts.items():
        parts = sorted(chunks[path])
        info = RunbookInfo(**{**json.loads(meta["info"]), "id": meta["runbook_id"]})
        docs[path] = DocRecord(info, meta["file_hash"], claimed_id(meta),
                               tuple(sys.intern(s) for _, s, _ in parts), tuple(t for _, _, t in parts))
    del chunks
    release_free_memory()
    return Mirror(docs, version, generation)
