"""Named locks that last as long as the transaction that takes them: one writer of a runbook
file at a time, across threads, processes and replicas, with no lock files.

PostgreSQL: a transaction-scoped advisory lock (released at commit or rollback, and by the
server when a crashed replica's connection drops, so it never goes stale). SQLite: every write
transaction already holds the database's write lock from its BEGIN IMMEDIATE, which covers
every process on that data dir.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import text

from .base import Repository


def lock_key(name: str) -> int:
    """A signed 64-bit key for the name (advisory locks take a bigint)."""
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big", signed=True)


class LockRepo(Repository):
    def hold(self, name: str) -> None:
        """Take the lock `name` until the surrounding transaction ends. Only meaningful inside
        `store.transaction()`: called on the store itself, the lock ends with this very call."""
        with self._write() as conn:
            if conn.dialect.name == "postgresql":
                # Waits at most lock_timeout (the store's timeout), then the store answers unavailable.
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(name)})

    def runbook(self, runbook_id: str) -> None:
        self.hold(f"runbook:{runbook_id}")
