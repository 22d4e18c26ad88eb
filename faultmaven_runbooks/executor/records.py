"""Execution records in the state store (storage/executions.py): one row per execution, the
executor's whole record kept as JSON, and the compare-and-set every status change goes through.

`transition` is one statement, `UPDATE ... WHERE id = :id AND status = :expected`: of any number
of deciders on any replicas (two approvers, an approver and an expiry, a recovery), exactly one
moves a record out of a status and the others get Conflict. Progress is saved by whoever holds
the current status, with the same compare-and-set on that status: a record that recovery marked
`interrupted` is never written back as if its apply went on. No lock or claim files.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ..errors import Conflict, InvalidInput, NotFound
from .models import ExecutionResult

_ID = re.compile(r"^exec-[0-9a-f]{12}$")
MAX_PAGE = 100


def _row(record: ExecutionResult) -> dict:
    return record.model_dump(mode="json")


class ExecutionRecords:
    def __init__(self, store):
        self.store = store  # its `executions` repository

    def add(self, record: ExecutionResult) -> None:
        """Store a new execution."""
        self.store.executions.add(_row(record), cluster=record.cluster.server if record.cluster else None)

    def save(self, record: ExecutionResult) -> None:
        """Save progress made under the status the record holds (only its holder calls this)."""
        if not self.store.executions.transition(_row(record), record.status):
            raise Conflict(f"execution {record.execution_id} is no longer {record.status}; nothing more is done")

    def get(self, execution_id: str) -> ExecutionResult:
        if not isinstance(execution_id, str) or not _ID.fullmatch(execution_id):
            # Only our own format: a hostile id never reaches a query, and a typo gets told the shape.
            raise InvalidInput(f"execution id {str(execution_id)[:40]!r} is not of the form exec-<12 hex digits>")
        stored = self.store.executions.get(execution_id)
        if stored is None:
            raise NotFound(f"no execution {execution_id}; list them with `faultmaven-runbooks executions` "
                           "(or list_executions)")
        return ExecutionResult.model_validate(stored.record)

    def page(self, limit: int, cursor: str | None = None, runbook_id: str | None = None,
             status: str | None = None) -> tuple[list[ExecutionResult], str | None]:
        """Newest first (by creation time, then id), `limit` at a time, after `cursor`."""
        page = self.store.executions.page(limit, cursor, runbook_id=runbook_id, status=status)
        return [ExecutionResult.model_validate(s.record) for s in page.items], page.next_cursor

    def transition(self, execution_id: str, expected: str,
                   change: Callable[[ExecutionResult], None]) -> ExecutionResult:
        """Apply `change` (which sets the new status) only if the record is still `expected`."""
        record = self.get(execution_id)
        if record.status != expected:
            raise Conflict(f"execution {execution_id} is {record.status}, no longer {expected}")
        change(record)
        record.version += 1
        if not self.store.executions.transition(_row(record), expected):
            raise Conflict(f"execution {execution_id} changed meanwhile; it is no longer {expected}")
        return record
