"""Executions and the decisions on them.

The executor's record is kept whole as JSON (its model may grow); the fields listings filter
and sort on are columns. Every status change is a compare-and-set, UPDATE ... WHERE id = :id
AND status = :expected, inside a transaction: of any number of replicas deciding the same
approval at once, exactly one sees rowcount 1 and goes on to apply. No lock files.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select, update

from ..errors import Conflict
from .base import Repository, as_time, insert_ignoring_duplicates, where_given
from .paging import Page
from .schema import Execution

AWAITING_APPROVAL = "awaiting_approval"
HEAD = ("execution_id", "runbook_id", "status", "requester", "plan_hash", "created", "updated")


@dataclass(frozen=True)
class StoredExecution:
    execution_id: str
    runbook_id: str
    status: str
    requester: str
    cluster: str | None
    plan_hash: str
    created: dt.datetime
    updated: dt.datetime
    record: dict  # the executor's full record, as saved


def _columns(record: dict) -> dict:
    missing = [key for key in HEAD if not record.get(key)]
    if missing:
        raise ValueError(f"an execution record needs {', '.join(missing)}")
    return dict(runbook_id=record["runbook_id"], status=record["status"], requester=record["requester"],
                plan_hash=record["plan_hash"], created=as_time(record["created"], "execution created"),
                updated=as_time(record["updated"], "execution updated"), record=record)


def _stored(row) -> StoredExecution:
    return StoredExecution(row.id, row.runbook_id, row.status, row.requester, row.cluster, row.plan_hash,
                           row.created, row.updated, row.record)


def _filters(runbook_id, status, requester, cluster) -> tuple:
    return ((Execution.runbook_id, runbook_id), (Execution.status, status), (Execution.requester, requester),
            (Execution.cluster, cluster))


class ExecutionRepo(Repository):
    def add(self, record: dict, cluster: str | None = None) -> None:
        """Store a new execution; `cluster` is the identity of the cluster it targets (a string,
        e.g. a hash of API server URL, CA fingerprint and context) so listings can filter on it."""
        values = {"id": record.get("execution_id"), "cluster": cluster, **_columns(record)}
        with self._write() as conn:
            if not insert_ignoring_duplicates(conn, Execution, values, ["id"]):
                raise Conflict(f"execution {record['execution_id']} already exists")

    def get(self, execution_id: str) -> StoredExecution | None:
        with self._read() as conn:
            row = conn.execute(select(Execution).where(Execution.id == execution_id)).first()
        return _stored(row) if row else None

    def transition(self, record: dict, expected_status: str) -> bool:
        """Save `record` (its new status inside) only if the stored status is still
        `expected_status`. True: this caller moved it; False: someone else got there first, or
        the execution does not exist. Use it for every state change after creation."""
        columns = _columns(record)
        del columns["created"]
        query = (update(Execution).where(Execution.id == record["execution_id"], Execution.status == expected_status)
                 .values(**columns))
        with self._write() as conn:
            return conn.execute(query).rowcount == 1

    def claim_approval(self, record: dict) -> bool:
        """Decide a pending approval exactly once: the record carries the decision and its new
        status ('applying' to go on and apply, 'rejected', 'expired'). Only the caller that gets
        True may act on it; every other concurrent decider, on any replica, gets False."""
        return self.transition(record, AWAITING_APPROVAL)

    def page(self, limit: int = 10, cursor: str | None = None, *, runbook_id: str | None = None,
             status: str | None = None, requester: str | None = None,
             cluster: str | None = None) -> Page[StoredExecution]:
        """Newest first, optionally only one runbook's, status's, requester's or cluster's."""
        query = where_given(select(Execution), *_filters(runbook_id, status, requester, cluster))
        return self._page(query, Execution.created, Execution.id, limit, cursor, _stored)

    def count(self, *, runbook_id: str | None = None, status: str | None = None, requester: str | None = None,
              cluster: str | None = None) -> int:
        query = where_given(select(func.count()).select_from(Execution),
                            *_filters(runbook_id, status, requester, cluster))
        with self._read() as conn:
            return conn.execute(query).scalar_one()
