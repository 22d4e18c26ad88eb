"""The audit log: an append-only table. This module only inserts and reads; the schema's
triggers refuse UPDATE, DELETE (and TRUNCATE on PostgreSQL) whoever sends them."""

from __future__ import annotations

import json
from typing import TextIO

from sqlalchemy import insert, select

from .base import Repository, as_time, iso, where_given
from .paging import Page
from .schema import AuditEntry

EXPORT_BATCH = 1000


def _line(entry: dict) -> str:
    # The same serialisation as the old JSONL file, so exports of imported and new entries match.
    return json.dumps(entry, sort_keys=True, default=str, ensure_ascii=True)


class AuditRepo(Repository):
    def append(self, event: str, **fields) -> dict:
        """Record one event, stamped with the clock; returns the entry as stored. Values that
        are not JSON (datetimes, paths) are stored as their text."""
        entry = json.loads(_line({"time": iso(self._now()), "event": event, **fields}))
        self.append_entry(entry)
        return entry

    def append_entry(self, entry: dict) -> None:
        """Store an entry that already carries its `time` and `event` (used by the importer)."""
        values = dict(at=as_time(entry["time"], "audit time"), event=str(entry["event"])[:100],
                      execution_id=entry.get("execution_id"), entry=entry)
        with self._write() as conn:
            conn.execute(insert(AuditEntry).values(**values))

    def entries(self, execution_id: str) -> list[dict]:
        """One execution's entries, oldest first."""
        query = select(AuditEntry.entry).where(AuditEntry.execution_id == execution_id).order_by(AuditEntry.seq)
        with self._read() as conn:
            return list(conn.execute(query).scalars())

    def page(self, limit: int = 50, cursor: str | None = None, *, execution_id: str | None = None,
             event: str | None = None) -> Page[dict]:
        """Newest first."""
        query = where_given(select(AuditEntry), (AuditEntry.execution_id, execution_id), (AuditEntry.event, event))
        return self._page(query, AuditEntry.at, AuditEntry.seq, limit, cursor, lambda r: r.entry)

    def export_jsonl(self, out: TextIO) -> int:
        """Write every entry, in the order they were appended, one JSON object per line;
        returns the number written. Reads in batches, so memory stays flat on any log size."""
        written, after = 0, 0
        while True:
            query = (select(AuditEntry.seq, AuditEntry.entry).where(AuditEntry.seq > after)
                     .order_by(AuditEntry.seq).limit(EXPORT_BATCH))
            with self._read() as conn:
                rows = conn.execute(query).all()
            for row in rows:
                out.write(_line(row.entry) + "\n")
            written += len(rows)
            if len(rows) < EXPORT_BATCH:
                return written
            after = rows[-1].seq
