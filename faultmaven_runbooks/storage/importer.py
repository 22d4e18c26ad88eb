"""Import the state that the file stores of earlier releases left in a data dir, once.

Read, in the formats of both file-store releases: cache/patterns.json (learning: patterns,
statistics and, since the learning loop became idempotent, one record per incident id),
cache/metrics.json (analytics), executions/exec-*.json (with cluster identity and the
`applying` state, since approvals got credentials), audit/executions.jsonl, approvers.json
(token hashes), versions/<id>/index.json + v<N>.md. Everything goes in one transaction
together with a marker row keyed by the files' names, sizes and mtimes: a crash
half-way leaves nothing behind and the next start imports again from scratch; a crash after the
commit finds the marker and imports nothing twice. Then each file or folder is renamed to
<name>.imported (never deleted), so the next start has nothing to read.

Importing a second data dir into a shared database (replicas moving to one PostgreSQL) merges
it: counters add up, a pattern or version that clashes with one already stored is kept under
a new id or number, and the log says so.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import select, update

from .base import Repository, insert_ignoring_duplicates, upsert_add
from .legacy_files import SOURCES, LegacyFiles
from .schema import Approver, Counter, Incident, LegacyImport, Pattern

log = logging.getLogger(__name__)

DONE = ".imported"


class LegacyImportRepo(Repository):
    """The importer's own writes: the marker row, and rows no feature writes this way."""

    def claim(self, key: str, data_dir: Path) -> bool:
        """Insert the marker first: a second importer of the same files (another process on
        the same data dir) waits for this transaction, then finds the marker and skips."""
        values = dict(key=key, data_dir=str(data_dir), imported_at=self._now(), summary={})
        with self._write() as conn:
            return insert_ignoring_duplicates(conn, LegacyImport, values, ["key"])

    def finish(self, key: str, summary: dict) -> None:
        with self._write() as conn:
            conn.execute(update(LegacyImport).where(LegacyImport.key == key).values(summary=summary))

    def add_incidents(self, pattern_id: str, incidents: list[tuple[str, dict | None]], at) -> int:
        """Incidents the file store named, oldest first, with what each added to the statistics
        (None when that release did not keep it: the incident is known, its contribution not)."""
        added = 0
        with self._write() as conn:
            for incident_id, data in incidents:
                values = dict(incident_id=incident_id, pattern_id=pattern_id, recorded_at=at, updated_at=at,
                              revision=1, data=data)
                added += insert_ignoring_duplicates(conn, Incident, values, ["incident_id"])
        return added

    def add_approver(self, name: str, token_hash: str, created) -> bool:
        """An approver credential as the file kept it (its date, its hash); False if the name is taken."""
        values = dict(name=name, token_hash=token_hash, created=created, revoked=None)
        with self._write() as conn:
            return insert_ignoring_duplicates(conn, Approver, values, ["name"])

    def add_counter(self, name: str, value: int) -> None:
        with self._write() as conn:
            upsert_add(conn, Counter, {"name": name}, {"value": value})

    @contextmanager
    def item(self) -> Iterator[None]:
        """A savepoint around one imported item: if the database refuses it (PostgreSQL would
        otherwise abort the whole import), only that item is undone and reported."""
        with self._write() as conn, conn.begin_nested():
            yield

    def pattern_exists(self, pattern_id: str) -> bool:
        with self._read() as conn:
            return conn.execute(select(Pattern.id).where(Pattern.id == pattern_id)).first() is not None


def _present(data_dir: Path) -> list[str]:
    out = []
    for rel in SOURCES:
        path = data_dir / rel
        if path.is_dir() and any(not p.is_dir() for p in path.rglob("*")) or path.is_file():
            out.append(rel)
    return out


def _files(data_dir: Path, rel: str) -> list[Path]:
    path = data_dir / rel
    return sorted(p for p in path.rglob("*") if not p.is_dir()) if path.is_dir() else [path]


def fingerprint(data_dir: Path, sources: list[str]) -> str:
    """Names, sizes and mtimes of the files: the same files (a copied or restored data dir
    keeps mtimes) give the same key. Reads no content, so it costs nothing on a large dir."""
    digest = hashlib.sha256()
    for rel in sources:
        for path in _files(data_dir, rel):
            st = path.stat()
            digest.update(f"{path.relative_to(data_dir).as_posix()}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def import_legacy_state(store, data_dir: Path) -> dict | None:
    """Import what the old file stores left in data_dir; returns the summary, or None when
    there was nothing to import (or these files were imported before)."""
    data_dir = Path(data_dir)
    sources = _present(data_dir)
    if not sources:
        return None
    key = fingerprint(data_dir, sources)
    summary: dict | None = None
    with store.transaction() as tx:
        if tx.legacy_imports.claim(key, data_dir):
            summary = LegacyFiles(tx, data_dir, store.clock()).run(sources)
            tx.legacy_imports.finish(key, summary)
    if summary is None:
        log.info("old state files in %s were imported before; renaming what is left of them", data_dir)
    else:
        log.info("imported old state from %s into %s: %s", data_dir, store.describe(), json.dumps(summary))
    _rename(data_dir, sources)
    return summary


def _rename(data_dir: Path, sources: list[str]) -> None:
    for rel in sources:
        path = data_dir / rel
        target, n = path.with_name(path.name + DONE), 2
        while target.exists():
            target, n = path.with_name(f"{path.name}{DONE}-{n}"), n + 1
        try:
            path.rename(target)
        except OSError as exc:  # imported all the same; the marker keeps it from being imported again
            log.warning("could not rename %s to %s (%s); it stays, and is not imported again", rel, target.name, exc)
            continue
        log.info("kept %s as %s (its state is in the database now)", rel, target.name)
