"""What every repository shares: how it gets a connection, the clock, atomic counter upserts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import Connection, Select, case
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import QueryableAttribute

from ..clock import Clock
from ..errors import InvalidInput
from .paging import Page, keyset, page_of

# connect(write) -> a connection inside a transaction: the repository's own short one, or the
# caller's when the repository is bound to StateStore.transaction().
Connect = Callable[[bool], AbstractContextManager[Connection]]


class Repository:
    def __init__(self, connect: Connect, clock: Clock):
        self._connect = connect
        self._clock = clock

    def _read(self) -> AbstractContextManager[Connection]:
        return self._connect(False)

    def _write(self) -> AbstractContextManager[Connection]:
        return self._connect(True)

    def _now(self) -> dt.datetime:
        return self._clock()

    def _page(self, query: Select, time_col, key_col, limit: int, cursor: str | None, convert) -> Page:
        """One page of `query`, newest first by (time_col, key_col); see paging.py."""
        with self._read() as conn:
            rows = conn.execute(keyset(query, time_col, key_col, limit, cursor)).all()
        return page_of(rows, limit, convert, lambda r: (getattr(r, time_col.key), getattr(r, key_col.key)))


def where_given(query: Select, *conditions: tuple[QueryableAttribute[Any], object]) -> Select:
    """`query` narrowed by column == value for each (column, value) whose value is not None."""
    for column, value in conditions:
        if value is not None:
            query = query.where(column == value)
    return query


def dialect_insert(conn: Connection, model):
    """INSERT with ON CONFLICT support (PostgreSQL and SQLite share the syntax)."""
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(model.__table__)


def upsert_add(conn: Connection, model, key: Mapping[str, object], deltas: Mapping[str, float],
               latest: Mapping[str, dt.datetime | None] | None = None) -> None:
    """Add `deltas` to the row named by `key`, creating it if missing, in one statement:
    INSERT ... ON CONFLICT DO UPDATE SET n = n + excluded.n. Concurrent callers on any number of
    replicas never lose an increment (no read-modify-write). `latest` columns keep the later of
    the stored and the given time, so replicas with skewed clocks never move them backwards."""
    table = model.__table__
    latest = {k: v for k, v in (latest or {}).items() if v is not None}
    insert = dialect_insert(conn, model).values(**key, **deltas, **latest)
    changes = {name: table.c[name] + insert.excluded[name] for name in deltas}
    for name in latest:
        column = table.c[name]
        changes[name] = case((column.is_(None) | (column < insert.excluded[name]), insert.excluded[name]),
                             else_=column)
    if changes:
        conn.execute(insert.on_conflict_do_update(index_elements=list(key), set_=changes))
    else:
        conn.execute(insert.on_conflict_do_nothing(index_elements=list(key)))


def insert_ignoring_duplicates(conn: Connection, model, values: Mapping[str, object], key: list[str]) -> bool:
    """INSERT unless a row with that key exists; True when this call inserted it. Decides
    races between replicas in the database (one statement), not in Python."""
    insert = dialect_insert(conn, model)
    # RETURNING, not rowcount: drivers need not report a rowcount for INSERT (psycopg under
    # SQLAlchemy 2.1 gives -1), while a returned row is proof on both databases.
    query = insert.values(**values).on_conflict_do_nothing(index_elements=key).returning(insert.table.c[key[0]])
    return conn.execute(query).first() is not None


def as_time(value: str | dt.datetime | None, what: str) -> dt.datetime | None:
    """A stored time from the ISO text the features use (or a datetime); naive means UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            time = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInput(f"{what} {value[:40]!r} is not an ISO 8601 time") from None
    elif isinstance(value, dt.datetime):
        time = value
    else:
        raise InvalidInput(f"{what} must be an ISO 8601 time")
    return time if time.tzinfo else time.replace(tzinfo=dt.UTC)


def iso(value: dt.datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None
