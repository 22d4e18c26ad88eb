"""Previous versions of runbooks, kept under data_dir/versions/<id>/ (v<N>.md + index.json)."""

from __future__ import annotations

import difflib
import json
import re
from pathlib import Path

from ..clock import Clock, utc_now
from ..errors import InvalidInput, NotFound
from .store import atomic_write, file_hash

RUNBOOK_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")


def check_id(runbook_id: str) -> str:
    # The id names a folder under data_dir: anything but [a-z0-9-] could escape it (traversal).
    if not isinstance(runbook_id, str) or not RUNBOOK_ID.match(runbook_id):
        raise InvalidInput(f"runbook id {runbook_id!r} must be lowercase letters, digits and '-' "
                           "(at most 100 characters); use `search` to find ids")
    return runbook_id


class VersionStore:
    """Append-only: a saved version is never rewritten. Callers hold the runbook's lock."""

    def __init__(self, data_dir: Path, clock: Clock = utc_now):
        self.root = Path(data_dir) / "versions"
        self.clock = clock

    def _dir(self, runbook_id: str) -> Path:
        return self.root / check_id(runbook_id)

    def entries(self, runbook_id: str) -> list[dict]:
        path = self._dir(runbook_id) / "index.json"
        try:
            data = json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            return []
        except ValueError:
            raise InvalidInput(f"version index of {runbook_id!r} is unreadable ({path}); repair or remove it")
        return data if isinstance(data, list) else []

    def last_version(self, runbook_id: str) -> int:
        return max((e["version"] for e in self.entries(runbook_id)), default=0)

    def save(self, runbook_id: str, version: int, data: bytes, author: str | None, note: str | None,
             replaced_at: str | None = None) -> dict:
        folder = self._dir(runbook_id)
        entries = [e for e in self.entries(runbook_id) if e["version"] != version]
        atomic_write(folder / f"v{version}.md", data)
        entry = {"version": version, "sha256": file_hash(data), "bytes": len(data),
                 "replaced_at": replaced_at or self.clock().isoformat(timespec="seconds"),
                 "replaced_by": author, "note": note}
        entries.append(entry)
        entries.sort(key=lambda e: e["version"])
        # The version file lands before the index names it, so the index never points at nothing.
        atomic_write(folder / "index.json", json.dumps(entries, indent=1).encode("utf-8"))
        return entry

    def read(self, runbook_id: str, version: int) -> str:
        path = self._dir(runbook_id) / f"v{int(version)}.md"
        try:
            return path.read_text("utf-8")
        except FileNotFoundError:
            known = [e["version"] for e in self.entries(runbook_id)]
            raise NotFound(f"runbook {runbook_id!r} has no saved version {version}; saved versions: {known}")

    def update_count(self, runbook_id: str) -> int:
        return len(self.entries(runbook_id))


def unified_diff(old: str, new: str, old_label: str, new_label: str) -> str:
    return "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                        fromfile=old_label, tofile=new_label))
