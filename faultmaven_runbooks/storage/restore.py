"""Bring the state of a backup (a SQLite snapshot, backup.py) back into the live store, without
rewinding history.

- State that describes the present (learned patterns and their incidents, outcome and usage
  counters, alert triage) is put back as the snapshot has it, in one transaction, as the
  library's files are.
- History is only completed: executions, kept runbook versions and notification deliveries the
  live store lacks are added and never replaced (a decided approval is never re-opened, so one
  change can never be approved and sent twice; a delivered notification is not sent again);
  audit entries the live log lacks are appended after it, and nothing
  in it is rewritten or removed.
- Approver credentials are never restored (a revoked one would come back); backups leave them out.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter as Multiset
from pathlib import Path

from sqlalchemy import Connection, create_engine, delete, func, insert, select
from sqlalchemy.engine import URL

from ..errors import InvalidInput
from .base import dialect_insert
from .deliveries import NotificationDelivery
from .migrate import current_revision, head_revision, upgrade
from .schema import (
    AlertTriage,
    AuditEntry,
    Base,
    Counter,
    Execution,
    Incident,
    LegacyImport,
    Pattern,
    ResolutionSideEffect,
    ResolutionStat,
    RunbookOutcome,
    RunbookUsage,
    RunbookVersion,
)

REWOUND = (Pattern, Incident, Counter, ResolutionStat, ResolutionSideEffect, RunbookOutcome, RunbookUsage,
           AlertTriage)
COMPLETED = {Execution: ["id"], RunbookVersion: ["runbook_id", "version"], LegacyImport: ["key"],
             NotificationDelivery: ["event_key", "channel"]}
# Numbered anew on the way in: the live sequence stays in step (and a live row's number is never taken).
SERIAL = {Incident: "seq", NotificationDelivery: "seq"}
BATCH = 1000


def _ordered(models) -> list:
    """Parents before children (foreign keys)."""
    tables = {m.__table__: m for m in models}
    return [tables[t] for t in Base.metadata.sorted_tables if t in tables]


def _rows(source: Connection, model, skip: str | None = None) -> list[dict]:
    table = model.__table__
    columns = [c for c in table.columns if c.name != skip]
    order = [table.c[skip]] if skip else list(table.primary_key.columns)
    return [dict(r) for r in source.execute(select(*columns).order_by(*order)).mappings()]


def _line_key(entry: dict) -> bytes:
    return hashlib.sha256(json.dumps(entry, sort_keys=True, default=str).encode()).digest()


def merge_snapshot(store, snapshot: Path) -> dict:
    """Merge the snapshot at `snapshot` (a working copy: it is migrated in place) into `store`."""
    engine = create_engine(URL.create("sqlite+pysqlite", database=str(snapshot)))
    try:
        revision = current_revision(engine)
        if revision is None:
            raise InvalidInput("the backup's state/state.db is not a state database; the archive is damaged")
        if revision != head_revision():
            try:
                upgrade(engine)  # a backup made by an older release
            except Exception as exc:
                raise InvalidInput(f"the backup's state ({revision}) cannot be brought to this release's "
                                   f"schema ({head_revision()}): {exc}") from None
        with engine.connect() as source, store._connect(True) as live:
            report = {"rewound": _rewind(source, live), "added": _complete(source, live)}
            report["added"]["audit_entries"] = _append_missing_audit(source, live)
    finally:
        engine.dispose()
    return report


def _rewind(source: Connection, live: Connection) -> dict:
    for model in reversed(_ordered(REWOUND)):  # children first
        live.execute(delete(model.__table__))
    counts = {}
    for model in _ordered(REWOUND):
        rows = _rows(source, model, SERIAL.get(model))
        for start in range(0, len(rows), BATCH):
            live.execute(insert(model.__table__), rows[start:start + BATCH])
        counts[model.__tablename__] = len(rows)
    return counts


def _count(conn: Connection, model) -> int:
    return conn.execute(select(func.count()).select_from(model.__table__)).scalar_one()


def _complete(source: Connection, live: Connection) -> dict:
    added = {}
    for model, key in COMPLETED.items():
        before = _count(live, model)
        rows = _rows(source, model, SERIAL.get(model))
        statement = dialect_insert(live, model).on_conflict_do_nothing(index_elements=key)
        for start in range(0, len(rows), BATCH):
            live.execute(statement, rows[start:start + BATCH])
        added[model.__tablename__] = _count(live, model) - before
    return added


def _append_missing_audit(source: Connection, live: Connection) -> int:
    """Entries of the snapshot's log that the live log does not hold (as a multiset: two equal
    entries in the snapshot need two in the live log), appended in their order."""
    have = Multiset(_line_key(e) for e in live.execute(select(AuditEntry.entry)).scalars())
    missing = []
    for row in source.execute(select(AuditEntry.at, AuditEntry.event, AuditEntry.execution_id, AuditEntry.entry)
                              .order_by(AuditEntry.seq)).mappings():
        key = _line_key(row["entry"])
        if have[key]:
            have[key] -= 1
        else:
            missing.append(dict(row))
    for start in range(0, len(missing), BATCH):
        live.execute(insert(Base.metadata.tables[AuditEntry.__tablename__]), missing[start:start + BATCH])
    return len(missing)
