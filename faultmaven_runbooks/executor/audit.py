"""Append-only JSONL audit log: every attempt, refused ones included.

Each event is one line written with O_APPEND and fsync, so concurrent writers never
interleave within a line and a crash loses at most the event being written. Nothing in the
project rewrites or truncates this file (a backup restore leaves it alone too). A database
store implements the same two methods on an insert-only table.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from ..clock import Clock, utc_now


class AuditLog:
    def __init__(self, path: Path, clock: Clock = utc_now):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.clock = clock
        self._lock = threading.Lock()

    def record(self, event: str, **fields) -> dict:
        entry = {"time": self.clock().isoformat(timespec="seconds"), "event": event, **fields}
        line = (json.dumps(entry, sort_keys=True, default=str, ensure_ascii=True) + "\n").encode("utf-8")
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)
        return entry

    def entries(self, execution_id: str | None = None) -> list[dict]:
        if not self.path.exists():
            return []
        out = []
        with self.path.open(encoding="utf-8") as fh:
            for line in fh:
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue  # a torn last line after a crash
                if execution_id is None or entry.get("execution_id") == execution_id:
                    out.append(entry)
        return out
