"""Daily / weekly / monthly snapshots of the library and the state, with retention and restore.

An archive holds library/<file>, data/<file> and MANIFEST.json (sha256 of every file). The
search index (data_dir/chroma), locks, approver credentials and the backups themselves are
left out: the index is rebuilt from the restored files, and a restore must never bring back a
revoked credential. Restore verifies every hash before touching anything, saves a pre-restore
snapshot, then makes both trees byte-identical to the archive, except the history: the audit
log and the execution records are append-only, so a restore only adds the ones that are
missing and never rewrites or removes one (rewinding them would erase audit lines and re-open
decided approvals: the same change could be approved and sent twice).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import os
import re
import shutil
import tarfile
import tempfile
from pathlib import Path

from ..errors import InvalidInput, NotFound
from ..learning.jsonstate import file_lock
from ..library.store import atomic_write, file_hash
from ..settings import LearningSettings

log = logging.getLogger(__name__)

KINDS = ("daily", "weekly", "monthly", "pre-restore")
DATA_SKIP = {"backups", "chroma", "locks", "approvers.json"}  # rebuilt, transient or secret; never restored over
DATA_APPEND_ONLY = {"audit", "executions"}  # history: restored only where missing, never rewritten
APPEND_ONLY = {"library": set(), "data": DATA_APPEND_ONLY}
NAME = re.compile(r"^(?:(daily|weekly|monthly|pre-restore)/)?((daily|weekly|monthly|pre-restore)-\d{8}T\d{12}Z(?:-\d+)?\.tar\.gz)$")


def _skip(rel: Path, top_skip: set[str]) -> bool:
    parts = rel.parts
    return (parts[0] in top_skip or ".git" in parts
            or rel.name.endswith((".lock", ".tmp", ".flock")) or rel.name.startswith(".") and rel.name.endswith(".tmp"))


def _files(root: Path, top_skip: set[str]) -> dict[str, Path]:
    out = {}
    if not root.is_dir():
        return out
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath, name)
            rel = path.relative_to(root)
            if path.is_file() and not path.is_symlink() and not _skip(rel, top_skip):
                out[rel.as_posix()] = path
    return out


class Backups:
    def __init__(self, settings, service, features: LearningSettings | None = None):
        self.settings = settings
        self.service = service
        self.features = features or settings.learning
        self.root = Path(settings.data_dir) / "backups"
        self.keep = {"daily": self.features.keep_daily, "weekly": self.features.keep_weekly,
                     "monthly": self.features.keep_monthly, "pre-restore": 3}

    def _trees(self) -> dict[str, tuple[Path, set[str]]]:
        return {"library": (Path(self.settings.library_dir), set()),
                "data": (Path(self.settings.data_dir), DATA_SKIP)}

    # -- backup ------------------------------------------------------------------------------
    def backup(self, kind: str = "daily") -> dict:
        if kind not in KINDS:
            raise InvalidInput(f"kind {kind!r} must be one of daily, weekly, monthly")
        folder = self.root / kind
        folder.mkdir(parents=True, exist_ok=True)
        with file_lock(self.root / ".backups.lock"):
            stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
            name, n = f"{kind}-{stamp}.tar.gz", 2
            while (folder / name).exists():
                name, n = f"{kind}-{stamp}-{n}.tar.gz", n + 1
            manifest = {"kind": kind, "created": dt.datetime.now(dt.timezone.utc).isoformat(), "files": {}}
            buf = io.BytesIO()
            with tarfile.open(fileobj=buf, mode="w:gz") as tar:
                for tree, (root, skip) in self._trees().items():
                    for rel, path in _files(root, skip).items():
                        data = path.read_bytes()
                        manifest["files"][f"{tree}/{rel}"] = file_hash(data)
                        _add(tar, f"{tree}/{rel}", data, path.stat().st_mtime)
                _add(tar, "MANIFEST.json", json.dumps(manifest, indent=1).encode(), None)
            atomic_write(folder / name, buf.getvalue())
            removed = self._retain(kind)
        return {"name": f"{kind}/{name}", "kind": kind, "files": len(manifest["files"]),
                "bytes": len(buf.getvalue()), "removed_by_retention": removed}

    def _retain(self, kind: str) -> list[str]:
        archives = sorted((self.root / kind).glob(f"{kind}-*.tar.gz"), key=lambda p: p.name, reverse=True)
        removed = []
        for old in archives[self.keep[kind]:]:
            old.unlink(missing_ok=True)
            removed.append(f"{kind}/{old.name}")
        return removed

    def list(self) -> list[dict]:
        out = []
        for kind in KINDS:
            for path in sorted((self.root / kind).glob(f"{kind}-*.tar.gz"), reverse=True):
                st = path.stat()
                out.append({"name": f"{kind}/{path.name}", "kind": kind, "bytes": st.st_size,
                            "created": dt.datetime.fromtimestamp(st.st_mtime, dt.timezone.utc).isoformat()})
        return out

    # -- restore -----------------------------------------------------------------------------
    def _archive(self, name: str) -> Path:
        # Only names this module produces are accepted: stops ../ and absolute-path tricks.
        m = NAME.match(name or "")
        if not m or (m.group(1) and m.group(1) != m.group(3)):
            raise InvalidInput(f"backup name {name!r} is not valid; use a name from `backup --list`")
        path = self.root / m.group(3) / m.group(2)
        if not path.is_file():
            raise NotFound(f"no backup {name!r}; use `backup --list` to see the available ones")
        return path

    def restore(self, name: str, reindex: bool = True) -> dict:
        archive = self._archive(name)
        with file_lock(self.root / ".backups.lock"):
            staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=self.root))
            try:
                files = _extract_verified(archive, staging)
                safety = None
                if any(_files(r, s) for r, s in self._trees().values()):
                    safety = self._backup_unlocked_pre_restore()
                changed = {tree: _sync(staging / tree, root, skip, APPEND_ONLY[tree])
                           for tree, (root, skip) in self._trees().items()}
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        report = None
        if reindex and getattr(self.service, "reindex", None) is not None:
            report = self.service.reindex()
        return {"restored": f"{archive.parent.name}/{archive.name}", "files": files, "changed": changed,
                "pre_restore_backup": safety, "reindexed": report is not None}

    def _backup_unlocked_pre_restore(self) -> str:
        # file_lock is re-entrant within a thread, so the snapshot can run under the restore lock.
        return self.backup("pre-restore")["name"]


def _add(tar: tarfile.TarFile, name: str, data: bytes, mtime: float | None) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(mtime or dt.datetime.now().timestamp())
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def _extract_verified(archive: Path, staging: Path) -> int:
    """Extract into staging, refusing anything but plain files under library/ or data/ (tar-slip)."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = tar.getmembers()
            manifest_member = next((m for m in members if m.name == "MANIFEST.json"), None)
            if manifest_member is None:
                raise InvalidInput(f"{archive.name} has no MANIFEST.json; it was not made by `backup`")
            manifest = json.loads(tar.extractfile(manifest_member).read())
            expected = manifest.get("files", {})
            seen = set()
            for m in members:
                if m.name == "MANIFEST.json":
                    continue
                parts = Path(m.name).parts
                if (not m.isfile() or m.name.startswith("/") or ".." in parts
                        or parts[0] not in ("library", "data") or len(parts) < 2):
                    raise InvalidInput(f"{archive.name} contains an unsafe entry {m.name!r}; refusing to restore")
                data = tar.extractfile(m).read()
                if expected.get(m.name) != file_hash(data):
                    raise InvalidInput(f"{archive.name}: {m.name} does not match its checksum; the archive is damaged")
                target = staging / m.name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
                os.utime(target, (m.mtime, m.mtime))
                seen.add(m.name)
            if seen != set(expected):
                raise InvalidInput(f"{archive.name} is missing files listed in its manifest; the archive is damaged")
            return len(seen)
    except (tarfile.TarError, OSError, ValueError) as exc:
        if isinstance(exc, InvalidInput):
            raise
        raise InvalidInput(f"{archive.name} cannot be read ({exc}); pick another backup") from exc


def _sync(src: Path, dst: Path, skip: set[str], append_only: set[str]) -> dict:
    """Make dst's files byte-identical to src (skipped folders untouched; in append-only folders
    only missing files are added); atomic per file."""
    wanted = _files(src, skip)
    current = _files(dst, skip)
    written = removed = 0
    for rel, path in wanted.items():
        data = path.read_bytes()
        target = dst / rel
        if rel in current and Path(rel).parts[0] in append_only:
            continue  # live history wins: never rewind an audit log or a decided execution
        if rel not in current or current[rel].read_bytes() != data:
            atomic_write(target, data)
            written += 1
    for rel, path in current.items():
        if rel not in wanted and Path(rel).parts[0] not in append_only:
            path.unlink()
            removed += 1
            parent = path.parent
            while parent != dst and parent.is_dir() and not any(parent.iterdir()):
                parent.rmdir()
                parent = parent.parent
    return {"written": written, "removed": removed}


# -- CLI ---------------------------------------------------------------------------------------
