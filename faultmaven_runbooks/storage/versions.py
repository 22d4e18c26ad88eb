"""Previous versions of runbooks, byte for byte. A saved version is never rewritten."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping

from sqlalchemy import func, select

from ..errors import Conflict
from .base import Repository, as_time, insert_ignoring_duplicates, iso
from .paging import Page
from .schema import RunbookVersion

ENTRY = (RunbookVersion.runbook_id, RunbookVersion.version, RunbookVersion.sha256, RunbookVersion.bytes,
         RunbookVersion.replaced_at, RunbookVersion.replaced_by, RunbookVersion.note)


def _entry(row: Mapping) -> dict:
    """The shape of the old index.json entries (plus runbook_id)."""
    return {"runbook_id": row["runbook_id"], "version": row["version"], "sha256": row["sha256"],
            "bytes": row["bytes"], "replaced_at": iso(row["replaced_at"]), "replaced_by": row["replaced_by"],
            "note": row["note"]}


class VersionRepo(Repository):
    def save(self, runbook_id: str, version: int, content: bytes, replaced_by: str | None, note: str | None,
             replaced_at: str | dt.datetime | None = None) -> dict:
        """Keep `content` as `version`. Saving the same bytes again is a no-op (a retried save);
        different bytes under a saved version number are refused: history is never rewritten."""
        digest = hashlib.sha256(content).hexdigest()
        at = as_time(replaced_at, "replaced_at") or self._now()
        values = dict(runbook_id=runbook_id, version=version, sha256=digest, bytes=len(content), replaced_at=at,
                      replaced_by=replaced_by, note=note, content=content)
        with self._write() as conn:
            if not insert_ignoring_duplicates(conn, RunbookVersion, values, ["runbook_id", "version"]):
                row = conn.execute(select(*ENTRY).where(RunbookVersion.runbook_id == runbook_id,
                                                        RunbookVersion.version == version)).one()
                if row.sha256 != digest:
                    raise Conflict(f"runbook {runbook_id!r} already has a different version {version}; "
                                   "saved versions are never rewritten")
                return _entry(row._mapping)
        return _entry(values)

    def entries(self, runbook_id: str) -> list[dict]:
        """Every saved version's metadata, oldest first."""
        query = select(*ENTRY).where(RunbookVersion.runbook_id == runbook_id).order_by(RunbookVersion.version)
        with self._read() as conn:
            return [_entry(r) for r in conn.execute(query).mappings()]

    def page(self, runbook_id: str, limit: int = 20, cursor: str | None = None) -> Page[dict]:
        """Newest first."""
        query = select(*ENTRY).where(RunbookVersion.runbook_id == runbook_id)
        return self._page(query, RunbookVersion.replaced_at, RunbookVersion.version, limit, cursor,
                          lambda r: _entry(r._mapping))

    def read(self, runbook_id: str, version: int) -> bytes | None:
        query = select(RunbookVersion.content).where(RunbookVersion.runbook_id == runbook_id,
                                                     RunbookVersion.version == int(version))
        with self._read() as conn:
            return conn.execute(query).scalar()

    def last_version(self, runbook_id: str) -> int:
        query = select(func.max(RunbookVersion.version)).where(RunbookVersion.runbook_id == runbook_id)
        with self._read() as conn:
            return conn.execute(query).scalar() or 0

    def counts(self) -> dict[str, int]:
        """runbook id -> number of saved versions (the analytics' update count), in one query."""
        query = select(RunbookVersion.runbook_id, func.count()).group_by(RunbookVersion.runbook_id)
        with self._read() as conn:
            return {runbook_id: count for runbook_id, count in conn.execute(query)}

