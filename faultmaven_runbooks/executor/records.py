"""Execution records: one JSON file per execution under data_dir, so history survives restarts."""

from __future__ import annotations

import re
import threading
from pathlib import Path

from pydantic import ValidationError

from ..errors import InvalidInput, NotFound
from ..library.store import atomic_write
from .models import ExecutionResult, ExecutionSummary

_ID = re.compile(r"^exec-[0-9a-f]{12}$")


class ExecutionStore:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()

    def _path(self, execution_id: str) -> Path:
        if not _ID.match(execution_id or ""):
            # The id becomes a file name: refuse anything but our own format (path traversal).
            raise InvalidInput(f"execution id {execution_id[:40]!r} is not of the form exec-<12 hex digits>")
        return self.root / f"{execution_id}.json"

    def save(self, result: ExecutionResult) -> None:
        with self._lock:
            atomic_write(self._path(result.execution_id), result.model_dump_json(indent=1).encode("utf-8"))

    def get(self, execution_id: str) -> ExecutionResult:
        path = self._path(execution_id)
        if not path.exists():
            raise NotFound(f"no execution {execution_id}; use list_executions to see recent ones")
        try:
            return ExecutionResult.model_validate_json(path.read_bytes())
        except ValidationError:
            raise NotFound(f"execution record {execution_id} is unreadable") from None

    def list(self, limit: int = 10, runbook_id: str | None = None, status: str | None = None
             ) -> tuple[list[ExecutionSummary], int]:
        files = sorted(self.root.glob("exec-*.json"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
        matched: list[ExecutionSummary] = []
        total = 0
        for path in files:
            try:
                rec = ExecutionResult.model_validate_json(path.read_bytes())
            except (OSError, ValidationError):
                continue
            if runbook_id and rec.runbook_id != runbook_id or status and rec.status != status:
                continue
            total += 1
            if len(matched) < limit:
                matched.append(ExecutionSummary(
                    steps=len(rec.steps), **rec.model_dump(include=set(ExecutionSummary.model_fields) - {"steps"})))
        return matched, total
