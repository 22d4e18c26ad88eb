"""Daily / weekly / monthly snapshots of the library and the state, with retention and restore.

An archive holds library/<file>, data/<file>, state/state.db (a consistent copy of the SQLite
state database, taken with SQLite's backup API while the server runs) and MANIFEST.json (sha256
of every file). Left out: the search index (rebuilt from the restored files), the live database
files (the copy stands in for them), the backups themselves and every approver credential (the
copy has none, so a restore can never bring back a revoked one). With PostgreSQL the state is
the database's: back it up with pg_dump (README); archives then hold the files only.

Restore verifies every hash before touching anything, saves a pre-restore snapshot, makes the
library byte-identical to the archive and adds data files that are missing, then merges the
state (storage/restore.py): learned state and counters go back to the archive's, while history
is only completed: the audit log and the executions are never rewound (that would erase audit
lines and re-open decided approvals: the same change could be approved and sent twice).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import io
import json
import logging
import os
import re
import shutil
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import InvalidInput, NotFound
from ..library.store import atomic_write, file_hash
from ..settings import LearningSettings

log = logging.getLogger(__name__)

KINDS = ("daily", "weekly", "monthly", "pre-restore")
STATE_FILE = "state/state.db"
# Rebuilt, transient, live or secret: never archived, never restored over.
DATA_SKIP = {"backups", "chroma", "locks", "approvers.json", "approvers.json.imported",
             "state.db", "state.db-wal", "state.db-shm"}
NAME = re.compile(r"^(?:(daily|weekly|monthly|pre-restore)/)?"
                  r"((daily|weekly|monthly|pre-restore)-\d{8}T\d{12}Z(?:-\d+)?\.tar\.gz)$")


@contextmanager
def _exclusive(folder: Path) -> Iterator[None]:
    """One backup or restore at a time per data dir, across threads and processes: flock on the
    backups folder itself (no lock file), released by the kernel if the process dies."""
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _skip(rel: Path, top_skip: set[str]) -> bool:
    parts = rel.parts
    return (parts[0] in top_skip or ".git" in parts
            or rel.name.endswith((".lock", ".tmp", ".flock")) or rel.name.startswith(".") and rel.name.endswith(".tmp"))


def _files(root: Path, top_skip: set[str]) -> dict[str, Path]:
    out: dict[str, Path] = {}
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
    """`store`: the state store (snapshots and merges); `reindex()`: rebuild the search index
    from the restored files."""

    def __init__(self, library_dir: Path, data_dir: Path, store, reindex: Callable[[], object] | None = None,
                 features: LearningSettings | None = None):
        self.library_dir, self.data_dir = Path(library_dir), Path(data_dir)
        self.store = store
        self.reindex = reindex
        self.features = features or LearningSettings()
        self.root = self.data_dir / "backups"
        self.keep = {"daily": self.features.keep_daily, "weekly": self.features.keep_weekly,
                     "monthly": self.features.keep_monthly, "pre-restore": 3}

    def _trees(self) -> dict[str, tuple[Path, set[str]]]:
        return {"library": (self.library_dir, set()), "data": (self.data_dir, DATA_SKIP)}

    # -- backup ------------------------------------------------------------------------------
    def backup(self, kind: str = "daily") -> dict:
        if kind not in KINDS:
            raise InvalidInput(f"kind {kind!r} must be one of daily, weekly, monthly")
        with _exclusive(self.root):
            return self._backup(kind)

    def _backup(self, kind: str) -> dict:
        from ..storage.backup import snapshot

        folder = self.root / kind
        folder.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
        name, n = f"{kind}-{stamp}.tar.gz", 2
        while (folder / name).exists():
            name, n = f"{kind}-{stamp}-{n}.tar.gz", n + 1
        hashes: dict[str, str] = {}
        manifest = {"kind": kind, "created": dt.datetime.now(dt.UTC).isoformat(), "files": hashes}
        buf = io.BytesIO()
        with tempfile.TemporaryDirectory(prefix=".backup-", dir=self.root) as work, \
                tarfile.open(fileobj=buf, mode="w:gz") as tar:
            files = {f"{tree}/{rel}": path for tree, (root, skip) in self._trees().items()
                     for rel, path in _files(root, skip).items()}
            copy = snapshot(self.store.open(), Path(work) / "state.db", leave_out=("approvers",))
            if copy is not None:
                files[STATE_FILE] = copy
            for arcname, path in files.items():
                data = path.read_bytes()
                hashes[arcname] = file_hash(data)
                _add(tar, arcname, data, path.stat().st_mtime)
            _add(tar, "MANIFEST.json", json.dumps(manifest, indent=1).encode(), None)
        atomic_write(folder / name, buf.getvalue())
        removed = self._retain(kind)
        database = "included" if STATE_FILE in hashes else \
            f"not included: {self.store.describe()} is backed up with pg_dump (see README)"
        return {"name": f"{kind}/{name}", "kind": kind, "files": len(hashes),
                "bytes": len(buf.getvalue()), "database": database, "removed_by_retention": removed}

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
                            "created": dt.datetime.fromtimestamp(st.st_mtime, dt.UTC).isoformat()})
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
        from ..storage.restore import merge_snapshot

        archive = self._archive(name)
        with _exclusive(self.root):
            staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=self.root))
            try:
                files = _extract_verified(archive, staging)
                safety = self._backup("pre-restore")["name"]
                changed: dict[str, dict | None] = {
                    "library": _sync(staging / "library", self.library_dir, set(), add_only=False),
                    "data": _sync(staging / "data", self.data_dir, DATA_SKIP, add_only=True)}
                state = staging / STATE_FILE
                changed["state"] = merge_snapshot(self.store.open(), state) if state.is_file() else None
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        reindexed = False
        if reindex and self.reindex is not None:
            self.reindex()
            reindexed = True
        return {"restored": f"{archive.parent.name}/{archive.name}", "files": files, "changed": changed,
                "pre_restore_backup": safety, "reindexed": reindexed}


def _add(tar: tarfile.TarFile, name: str, data: bytes, mtime: float | None) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(mtime or dt.datetime.now().timestamp())
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def _read(tar: tarfile.TarFile, member: tarfile.TarInfo, archive: Path) -> bytes:
    fh = tar.extractfile(member)
    if fh is None:  # a directory or link where a file belongs
        raise InvalidInput(f"{archive.name}: {member.name} is not a file; the archive is damaged")
    return fh.read()


def _extract_verified(archive: Path, staging: Path) -> int:
    """Extract into staging, refusing anything but plain files under library/ or data/ (tar-slip)."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = tar.getmembers()
            manifest_member = next((m for m in members if m.name == "MANIFEST.json"), None)
            if manifest_member is None:
                raise InvalidInput(f"{archive.name} has no MANIFEST.json; it was not made by `backup`")
            manifest = json.loads(_read(tar, manifest_member, archive))
            expected = manifest.get("files", {})
            seen = set()
            for m in members:
                if m.name == "MANIFEST.json":
                    continue
                parts = Path(m.name).parts
                if (not m.isfile() or m.name.startswith("/") or ".." in parts
                        or parts[0] not in ("library", "data", "state") or len(parts) < 2):
                    raise InvalidInput(f"{archive.name} contains an unsafe entry {m.name!r}; refusing to restore")
                data = _read(tar, m, archive)
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
    except (tarfile.TarError, OSError, ValueError) as exc:  # InvalidInput is none of these: it passes
        raise InvalidInput(f"{archive.name} cannot be read ({exc}); pick another backup") from exc


def _sync(src: Path, dst: Path, skip: set[str], add_only: bool) -> dict:
    """Make dst's files byte-identical to src (skipped names untouched), atomic per file; with
    `add_only`, only add the files dst lacks (the data dir holds history, never rewound)."""
    wanted = _files(src, skip)
    current = _files(dst, skip)
    written = removed = 0
    for rel, path in wanted.items():
        data = path.read_bytes()
        target = dst / rel
        if rel in current and add_only:
            continue
        if rel not in current or current[rel].read_bytes() != data:
            atomic_write(target, data)
            written += 1
    for rel, path in current.items():
        if rel not in wanted and not add_only:
            path.unlink()
            removed += 1
            parent = path.parent
            while parent != dst and parent.is_dir() and not any(parent.iterdir()):
                parent.rmdir()
                parent = parent.parent
    return {"written": written, "removed": removed}
