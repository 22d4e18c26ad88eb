"""The database engine from settings, and the one place driver errors become domain errors.

SQLite (the default, data_dir/state.db) runs in WAL mode so readers never wait for the writer;
PostgreSQL (psycopg 3) is used when a URL is set, so replicas share one state.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import URL, make_url

from ..errors import InvalidInput, StoreUnavailable

log = logging.getLogger(__name__)

SETTING = "FAULTMAVEN_RUNBOOKS_DATABASE_URL"
SQLITE_FILE = "state.db"


def database_url(settings) -> URL:
    """The URL in force: the setting's, with the psycopg 3 driver, or SQLite in the data dir."""
    raw = getattr(settings, "database_url", None)
    if not raw:
        return URL.create("sqlite+pysqlite", database=str(Path(settings.data_dir) / SQLITE_FILE))
    try:
        url = make_url(raw)
    except exc.ArgumentError:
        raise InvalidInput(f"{SETTING} (or DATABASE_URL) is not a database URL; "
                           "use postgresql://user:password@host:5432/dbname") from None
    backend = url.get_backend_name()
    if backend in ("postgresql", "postgres"):
        return url.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        return url.set(drivername="sqlite+pysqlite")
    raise InvalidInput(f"{SETTING} names a {backend!r} database; use postgresql://... or leave it unset "
                       "for SQLite in the data dir")


def describe(url: URL) -> str:
    """The URL as a person may read it in a log or an error: never with its password."""
    if url.get_backend_name() == "sqlite":
        return f"SQLite file {url.database}"
    return url.render_as_string(hide_password=True)


def make_engine(settings) -> Engine:
    url = database_url(settings)
    timeout = float(getattr(settings, "database_timeout_seconds", 5.0))
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, timeout)
    return _postgres_engine(url, timeout)


def _sqlite_engine(url: URL, timeout: float) -> Engine:
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": timeout, "check_same_thread": False},
                           pool_timeout=timeout)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection, _record) -> None:
        # pysqlite's own implicit BEGIN skips DDL (migrations would not be atomic) and starts
        # transactions late; we emit BEGIN ourselves in _begin below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")  # wait for a writer, then fail
        _wal(cursor, timeout)  # readers never block the writer, nor it them
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable at each checkpoint; safe under WAL
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn) -> None:
        # A write transaction takes the write lock up front: a deferred one that reads, then
        # writes, fails at once with SQLITE_BUSY when another writer got in between (busy_timeout
        # cannot help there), so concurrent read-modify-writes would error instead of waiting.
        write = conn.get_execution_options().get("write", True)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _wal(cursor, timeout: float) -> None:
    """Switch to WAL (kept in the file: a no-op after the first time). The switch needs the
    database to itself and SQLite answers "locked" at once, without its busy timeout, when another
    process holds it (replicas starting together on a new data dir), so it is tried again here."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _postgres_engine(url: URL, timeout: float) -> Engine:
    millis = int(timeout * 1000)
    # Options the URL carries (say ?options=-csearch_path%3Dfaultmaven: a schema of its own in a
    # shared database) are kept, before ours.
    given = url.query.get("options", "")
    given = " ".join(given) if isinstance(given, tuple) else given
    return create_engine(
        url.difference_update_query(["options"]),
        pool_pre_ping=True,  # a connection broken by a database restart is replaced, not used
        pool_timeout=timeout,
        connect_args={
            "connect_timeout": max(2, int(timeout)),  # libpq's floor is 2 s
            # Waits on a lock held by a stuck transaction end in an error, never in a hang.
            "options": f"{given} -c lock_timeout={millis} -c idle_in_transaction_session_timeout={millis * 12}".strip(),
        },
    )


@contextmanager
def translate_errors(url: URL) -> Iterator[None]:
    """Driver errors that mean 'the database cannot answer now' become StoreUnavailable."""
    try:
        yield
    except (exc.OperationalError, exc.InterfaceError, exc.TimeoutError) as error:
        raise unavailable(url, error) from error
    except exc.DBAPIError as error:
        if error.connection_invalidated:
            raise unavailable(url, error) from error
        raise


def unavailable(url: URL, error: Exception) -> StoreUnavailable:
    orig = getattr(error, "orig", None) or error
    reason = (str(orig).strip().splitlines() or [type(orig).__name__])[0][:200]
    log.warning("state database %s unavailable: %s", describe(url), reason)
    if url.get_backend_name() == "sqlite":
        return StoreUnavailable(
            f"the state database ({describe(url)}) cannot answer: {reason}. Check that the data dir "
            f"is writable and on a local disk; {SETTING} points replicas at a shared PostgreSQL instead")
    return StoreUnavailable(
        f"the state database at {describe(url)} cannot answer: {reason}. Check that PostgreSQL is running "
        f"and reachable, and that {SETTING} (or DATABASE_URL) is right; then retry")
