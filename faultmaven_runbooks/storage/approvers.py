"""Approver credentials: a name and the hash of a token that is shown once and never stored.

Callers hash the token (e.g. sha256 of a 32-byte random token; a fast hash is enough for
high-entropy secrets) and look the hash up: a stolen database yields no usable token.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select, update

from ..errors import Conflict
from .base import Repository, dialect_insert
from .schema import Approver


@dataclass(frozen=True)
class ApproverRecord:
    name: str
    token_hash: str
    created: dt.datetime
    revoked: dt.datetime | None

    @property
    def active(self) -> bool:
        return self.revoked is None


def _record(row) -> ApproverRecord:
    return ApproverRecord(row.name, row.token_hash, row.created, row.revoked)


class ApproverRepo(Repository):
    def add(self, name: str, token_hash: str) -> ApproverRecord:
        """A new approver, or a new token for a revoked one; Conflict if `name` is active."""
        now = self._now()
        with self._write() as conn:
            insert = dialect_insert(conn, Approver).values(name=name, token_hash=token_hash, created=now, revoked=None)
            # Re-adding a revoked name replaces its old hash; an active approver is never overwritten.
            query = insert.on_conflict_do_update(
                index_elements=["name"], set_={"token_hash": insert.excluded.token_hash, "created": now,
                                               "revoked": None},
                where=Approver.__table__.c.revoked.is_not(None)).returning(insert.table.c.name)
            if conn.execute(query).first() is None:
                raise Conflict(f"approver {name!r} exists; revoke it first to issue a new token")
        return ApproverRecord(name, token_hash, now, None)

    def by_token_hash(self, token_hash: str) -> ApproverRecord | None:
        """The active approver holding this token, or None (unknown or revoked)."""
        query = select(Approver).where(Approver.token_hash == token_hash, Approver.revoked.is_(None))
        with self._read() as conn:
            row = conn.execute(query).first()
        return _record(row) if row else None

    def revoke(self, name: str) -> bool:
        query = update(Approver).where(Approver.name == name, Approver.revoked.is_(None)).values(revoked=self._now())
        with self._write() as conn:
            return conn.execute(query).rowcount == 1

    def list(self, include_revoked: bool = False) -> list[ApproverRecord]:
        query = select(Approver).order_by(Approver.name)
        if not include_revoked:
            query = query.where(Approver.revoked.is_(None))
        with self._read() as conn:
            return [_record(r) for r in conn.execute(query)]
