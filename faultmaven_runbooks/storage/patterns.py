"""Learned patterns and the incidents behind them.

`learn` reads every pattern's centroid and context (`store.patterns.candidates()`, cached, so
call it before opening the transaction), then in one transaction updates the pattern that
matched under its revision (a save that lost a race raises StaleWrite: redo the learn) and
records the incident by id, so a re-sent incident finds its earlier row and what it added,
instead of counting twice.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass

import numpy as np
from sqlalchemy import func, select, update

from ..errors import StaleWrite
from .base import Repository, as_time, dialect_insert, insert_ignoring_duplicates, upsert_add, where_given
from .paging import Page
from .schema import Counter, Incident, Pattern

APART = ("centroid", "context")  # kept in their own columns, for the match scan
IN_LIST_MAX = 500  # more stale patterns than this: read them all rather than name them
INCIDENTS_TOTAL = "learning.incidents"


@dataclass(frozen=True, eq=False)
class PatternCandidate:
    id: str
    centroid: np.ndarray  # float64, read-only (a view of the stored bytes): stack it, never change it
    context: dict  # shared with the cache: read, never change
    members: int
    revision: int


class CandidateCache:
    """Decoded candidates by pattern id, shared by every repository of one StateStore. A row's
    revision changes with every save, so (id, revision) names its content: `candidates()` reads
    only ids and revisions and decodes just the patterns saved since (by any replica)."""

    def __init__(self) -> None:
        self._entries: dict[str, PatternCandidate] = {}
        self._lock = threading.Lock()

    def stale(self, revisions: dict[str, int]) -> list[str]:
        with self._lock:
            return [pid for pid, rev in revisions.items()
                    if pid not in self._entries or self._entries[pid].revision != rev]

    def put(self, candidates: list[PatternCandidate]) -> None:
        with self._lock:
            self._entries.update((c.id, c) for c in candidates)

    def pick(self, ids: list[str]) -> list[PatternCandidate]:
        with self._lock:
            return [self._entries[pid] for pid in ids]


@dataclass(frozen=True)
class StoredPattern:
    pattern: dict  # the learning feature's record, centroid and context included
    revision: int

    @property
    def id(self) -> str:
        return self.pattern["id"]


@dataclass(frozen=True)
class StoredIncident:
    seq: int
    incident_id: str | None
    pattern_id: str
    recorded_at: dt.datetime
    updated_at: dt.datetime
    revision: int
    data: dict | None  # what the feature stored: the incident and what it added; None if imported


def _pack(vector) -> bytes:
    return np.asarray(vector, dtype="<f8").tobytes()  # fixed byte order: replicas may differ


def _vector(raw: bytes) -> np.ndarray:
    return np.frombuffer(raw, dtype="<f8")  # read-only: the cache hands the same array to every caller


def _unpack(raw: bytes) -> list[float]:
    return _vector(raw).tolist()


def _stored(row) -> StoredPattern:
    return StoredPattern({**row.doc, "centroid": _unpack(row.centroid), "context": row.context}, row.revision)


class PatternRepo(Repository):
    def __init__(self, connect, clock, cache: CandidateCache | None = None):
        super().__init__(connect, clock)
        self._cache = cache or CandidateCache()

    def _columns(self, pattern: dict) -> dict:
        now = self._now()
        return dict(name=str(pattern.get("name") or pattern["id"]), centroid=_pack(pattern.get("centroid") or []),
                    context=pattern.get("context") or {}, members=int(pattern.get("members") or 0),
                    runbook_id=pattern.get("runbook_id"),
                    created=as_time(pattern.get("created"), "pattern created") or now,
                    last_seen=as_time(pattern.get("last_seen"), "pattern last_seen") or now,
                    doc={k: v for k, v in pattern.items() if k not in APART})

    def candidates(self) -> list[PatternCandidate]:
        """Every pattern's centroid and context (what matching a new incident needs), by id.
        Costs one small query plus decoding the patterns saved since the last call."""
        with self._read() as conn:
            revisions = {pid: rev for pid, rev in conn.execute(select(Pattern.id, Pattern.revision))}
            stale = self._cache.stale(revisions)
            if stale:
                query = select(Pattern.id, Pattern.revision, Pattern.centroid, Pattern.context, Pattern.members)
                if len(stale) <= IN_LIST_MAX:
                    query = query.where(Pattern.id.in_(stale))
                self._cache.put([PatternCandidate(r.id, _vector(r.centroid), r.context, r.members, r.revision)
                                 for r in conn.execute(query)])
        return self._cache.pick(sorted(revisions))

    def get(self, pattern_id: str, *, lock: bool = False) -> StoredPattern | None:
        """With `lock` (inside a transaction), concurrent learns of one pattern wait for each other
        instead of all but one losing the compare-and-set (PostgreSQL: SELECT ... FOR UPDATE;
        SQLite's write transactions are serial anyway)."""
        query = select(Pattern).where(Pattern.id == pattern_id)
        with self._connect(lock) as conn:
            row = conn.execute(query.with_for_update() if lock else query).first()
        return _stored(row) if row else None

    def get_many(self, pattern_ids: list[str]) -> dict[str, StoredPattern]:
        """The patterns with these ids (a page of them), by id, in one query."""
        if not pattern_ids:
            return {}
        with self._read() as conn:
            rows = conn.execute(select(Pattern).where(Pattern.id.in_(list(pattern_ids)))).all()
        return {row.id: _stored(row) for row in rows}

    def add(self, pattern: dict) -> StoredPattern:
        """A new pattern; StaleWrite if another writer created one with this id first."""
        values = {"id": pattern["id"], "revision": 1, **self._columns(pattern)}
        with self._write() as conn:
            if not insert_ignoring_duplicates(conn, Pattern, values, ["id"]):
                raise StaleWrite(f"pattern {pattern['id']!r} was just created by another writer; retry")
        return StoredPattern(pattern, 1)

    def save(self, pattern: dict, revision: int) -> StoredPattern:
        """Replace the pattern if it is still at `revision` (a compare-and-set: UPDATE ...
        WHERE revision = :revision), else StaleWrite: two replicas never overwrite each other."""
        query = (update(Pattern).where(Pattern.id == pattern["id"], Pattern.revision == revision)
                 .values(revision=revision + 1, **self._columns(pattern)))
        with self._write() as conn:
            if conn.execute(query).rowcount != 1:
                raise StaleWrite(f"pattern {pattern['id']!r} changed since it was read; retry")
        return StoredPattern(pattern, revision + 1)

    def page(self, limit: int = 20, cursor: str | None = None) -> Page[StoredPattern]:
        """Most recently seen first."""
        return self._page(select(Pattern), Pattern.last_seen, Pattern.id, limit, cursor, _stored)

    def count(self) -> int:
        with self._read() as conn:
            return conn.execute(select(func.count()).select_from(Pattern)).scalar_one()


def _incident(row) -> StoredIncident:
    return StoredIncident(row.seq, row.incident_id, row.pattern_id, row.recorded_at, row.updated_at,
                          row.revision, row.data)


class IncidentRepo(Repository):
    def get(self, incident_id: str) -> StoredIncident | None:
        with self._read() as conn:
            row = conn.execute(select(Incident).where(Incident.incident_id == incident_id)).first()
        return _incident(row) if row else None

    def add(self, pattern_id: str, data: dict, incident_id: str | None = None) -> StoredIncident | None:
        """Record a new incident and count it; None (and nothing counted) when an incident with
        this id is already recorded, by this replica or another: then take the update path."""
        now = self._now()
        values = dict(incident_id=incident_id, pattern_id=pattern_id, recorded_at=now, updated_at=now,
                      revision=1, data=data)
        with self._write() as conn:
            query = (dialect_insert(conn, Incident).values(**values)
                     .on_conflict_do_nothing(index_elements=["incident_id"]).returning(Incident.seq))
            seq = conn.execute(query).scalar()
            if seq is None:
                return None
            upsert_add(conn, Counter, {"name": INCIDENTS_TOTAL}, {"value": 1})
        return StoredIncident(seq, incident_id, pattern_id, now, now, 1, data)

    def replace(self, stored: StoredIncident, pattern_id: str, data: dict) -> StoredIncident:
        """Update a re-sent incident if nobody else did since `stored` was read, else StaleWrite."""
        now = self._now()
        query = (update(Incident).where(Incident.seq == stored.seq, Incident.revision == stored.revision)
                 .values(pattern_id=pattern_id, data=data, updated_at=now, revision=stored.revision + 1))
        with self._write() as conn:
            if conn.execute(query).rowcount != 1:
                raise StaleWrite(f"incident {stored.incident_id!r} was updated by another writer; retry")
        return StoredIncident(stored.seq, stored.incident_id, pattern_id, stored.recorded_at, now,
                              stored.revision + 1, data)

    def recent_ids(self, pattern_id: str, limit: int = 5, exclude: str | None = None) -> list[str]:
        """Ids of the pattern's latest incidents, newest first (those sent without an id are left out)."""
        query = (select(Incident.incident_id)
                 .where(Incident.pattern_id == pattern_id, Incident.incident_id.is_not(None))
                 .order_by(Incident.recorded_at.desc(), Incident.seq.desc()).limit(limit + 1))
        with self._read() as conn:
            ids = [i for i in conn.execute(query).scalars() if i is not None and i != exclude]
        return ids[:limit]

    def page(self, pattern_id: str | None = None, limit: int = 20, cursor: str | None = None) -> Page[StoredIncident]:
        query = where_given(select(Incident), (Incident.pattern_id, pattern_id))
        return self._page(query, Incident.recorded_at, Incident.seq, limit, cursor, _incident)

    def total(self) -> int:
        """Incidents learned, each counted once (re-sends are not counted again)."""
        with self._read() as conn:
            value = conn.execute(select(Counter.value).where(Counter.name == INCIDENTS_TOTAL)).scalar()
        return int(value or 0)
