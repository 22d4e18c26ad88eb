"""A consistent copy of the SQLite state database, for the tar backups (ops/backups.py).

Copying state.db (and its -wal) file by file while the server writes can capture a torn
database; SQLite's online backup API copies one consistent moment instead, without stopping
writers for more than the copy. PostgreSQL is backed up with pg_dump (see README).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from .engine import translate_errors
from .store import StateStore

# What a file-level backup of the data dir must leave out: the live database and its WAL and
# shared-memory files (the snapshot stands in for them).
LIVE_FILES = ("state.db", "state.db-wal", "state.db-shm")


def snapshot(store: StateStore, dest: Path, leave_out: tuple[str, ...] = ()) -> Path | None:
    """Write the SQLite database as one self-contained file at `dest` (atomically: a crash
    leaves the old file or the new one), with the tables named in `leave_out` emptied (the
    backups leave out approver credentials). None for PostgreSQL, whose backups are pg_dump's job."""
    if store.dialect != "sqlite":
        return None
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.tmp")
    tmp.unlink(missing_ok=True)
    with translate_errors(store.engine.url):
        source = store.engine.raw_connection()
        try:
            driver = source.driver_connection
            if not isinstance(driver, sqlite3.Connection):  # the engine is always sqlite+pysqlite
                raise TypeError(f"expected a sqlite3 connection, got {type(driver).__name__}")
            target = sqlite3.connect(tmp)
            try:
                driver.backup(target)
                # One file, no -wal beside it: the copy is read by whatever restores it.
                target.execute("PRAGMA journal_mode=DELETE")
                for table in leave_out:
                    target.execute(f'DELETE FROM "{table}"')  # names from this package, never from input
                if leave_out:
                    target.commit()
                    target.execute("VACUUM")  # the deleted rows' pages are rewritten, not left in the file
            finally:
                target.close()
        finally:
            source.close()
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, dest)
    return dest
