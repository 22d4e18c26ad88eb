"""Execution records on files: one JSON file per execution, and an atomic status transition.

The interface (save / get / page / transition) is what a database store implements too:
`transition` is the compare-and-set `UPDATE ... SET status = new WHERE id = ? AND status = expected`.

On files the compare-and-set is a claim: every transition bumps the record's version, and
leaving version N first creates `<id>.vN.claim` with O_EXCL, naming its owner process. Only one
process can create it, so two approvers (or an approver and an expiry) never both act on one
pending plan. A claim is never removed when the transition succeeds: it records that version N
was left, and a later attempt on it fails at once. A claim whose owner died before it wrote the record (the crash window
between the two writes) is set aside by the next process that meets it, so no crash leaves
anything that blocks a decision forever.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import threading
from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from ..errors import Conflict, InvalidInput, NotFound
from ..library.store import atomic_write
from .models import ExecutionResult
from .process import current_owner, owner_alive

log = logging.getLogger(__name__)
_ID = re.compile(r"^exec-[0-9a-f]{12}$")
MAX_PAGE = 100


class ExecutionStore:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()

    def _path(self, execution_id: str, suffix: str = ".json") -> Path:
        if not isinstance(execution_id, str) or not _ID.fullmatch(execution_id):
            # The id becomes a file name: refuse anything but our own format (path traversal).
            raise InvalidInput(f"execution id {str(execution_id)[:40]!r} is not of the form exec-<12 hex digits>")
        return self.root / f"{execution_id}{suffix}"

    # -- records -----------------------------------------------------------------------------
    def save(self, record: ExecutionResult) -> None:
        """Write a record. Only the holder of the record's current status calls this."""
        with self._lock:
            atomic_write(self._path(record.execution_id), record.model_dump_json(indent=1).encode("utf-8"))

    def get(self, execution_id: str) -> ExecutionResult:
        path = self._path(execution_id)
        try:
            return ExecutionResult.model_validate_json(path.read_bytes())
        except FileNotFoundError:
            raise NotFound(f"no execution {execution_id} in {self.root.parent}; list them with "
                           "`faultmaven-runbooks executions` (or list_executions)") from None
        except ValidationError:
            raise NotFound(f"execution record {execution_id} is unreadable") from None

    def page(self, limit: int, cursor: str | None = None, runbook_id: str | None = None,
             status: str | None = None) -> tuple[list[ExecutionResult], str | None]:
        """Newest first (by creation time, then id), `limit` at a time, after `cursor`."""
        after = _decode_cursor(cursor) if cursor else None
        records = []
        for path in self.root.glob("exec-*.json"):
            try:
                rec = ExecutionResult.model_validate_json(path.read_bytes())
            except (OSError, ValidationError):
                continue
            if (runbook_id and rec.runbook_id != runbook_id) or (status and rec.status != status):
                continue
            key = (rec.created, rec.execution_id)
            if after is None or key < after:
                records.append((key, rec))
        records.sort(key=lambda kr: kr[0], reverse=True)
        page = [rec for _, rec in records[:limit]]
        more = len(records) > limit
        return page, (_encode_cursor(page[-1].created, page[-1].execution_id) if more and page else None)

    # -- compare-and-set ---------------------------------------------------------------------
    def transition(self, execution_id: str, expected: str, change: Callable[[ExecutionResult], None]) -> ExecutionResult:
        """Apply `change` (which sets the new status) only if the record is still `expected`."""
        with self._lock:
            record = self.get(execution_id)
            if record.status != expected:
                raise Conflict(f"execution {execution_id} is {record.status}, no longer {expected}")
            self._claim(self._path(execution_id, f".v{record.version}.claim"), record)
            fresh = self.get(execution_id)  # read again under the claim: the claim is what counts
            if fresh.version != record.version or fresh.status != expected:
                raise Conflict(f"execution {execution_id} changed meanwhile; it is {fresh.status}")
            change(fresh)
            fresh.version = record.version + 1
            self.save(fresh)
            return fresh

    def _claim(self, claim: Path, record: ExecutionResult) -> None:
        for _ in range(2):
            try:
                fd = os.open(claim, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            except FileExistsError:
                if not self._set_aside_dead(claim):
                    raise Conflict(f"execution {record.execution_id} is being decided by another process "
                                   "right now; look again in a moment") from None
                continue
            with os.fdopen(fd, "w") as fh:
                json.dump(current_owner(), fh)
                fh.flush()
                os.fsync(fh.fileno())
            return
        raise Conflict(f"execution {record.execution_id} is contended; try again")

    def _set_aside_dead(self, claim: Path) -> bool:
        """A claim whose owner died before writing the record blocks nothing: rename it away."""
        try:
            owner = json.loads(claim.read_text() or "{}")
        except (OSError, ValueError):
            owner = {}  # torn by a crash while the claim was being written: its owner is gone
        if owner_alive(owner) is not False:
            return False
        try:
            # rename is atomic: of two processes setting one claim aside, one succeeds.
            os.rename(claim, claim.with_name(claim.name + f".dead-{os.getpid()}"))
        except FileNotFoundError:
            pass
        log.warning("set aside the claim %s of a process that is gone (%s)", claim.name, owner)
        return True

    def recover(self) -> int:
        """Set aside every claim left by a dead process before it wrote its record. (A database
        store has no such window, its compare-and-set being one statement: there this is a no-op.)"""
        count = 0
        for claim in self.root.glob("exec-*.claim"):
            execution_id, version = claim.name.split(".")[:2]
            try:
                if f"v{self.get(execution_id).version}" == version and self._set_aside_dead(claim):
                    count += 1
            except (NotFound, InvalidInput):
                continue
        return count


def _encode_cursor(created: str, execution_id: str) -> str:
    return base64.urlsafe_b64encode(f"{created}|{execution_id}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[str, str]:
    try:
        created, _, execution_id = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().partition("|")
    except (ValueError, UnicodeDecodeError):
        created, execution_id = "", ""
    if not created or not _ID.fullmatch(execution_id):
        raise InvalidInput("cursor is not one this server gave out; start again without a cursor")
    return created, execution_id
