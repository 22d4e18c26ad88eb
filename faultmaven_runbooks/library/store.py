"""Runbook files: discovery, ids, parsing with a cache, and the crash-safe file operations the
library writer (writer.py, the one place that writes runbooks) is built on."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from ..errors import InvalidInput, NotFound
from ..models import Runbook
from .markdown import ParseResult, parse_runbook, slugify

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 2_000_000


def file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@contextlib.contextmanager
def _synced_temp(path: Path, data: bytes) -> Iterator[str]:
    """A complete, fsynced temp file beside `path` (same file system: rename and link are
    atomic), removed afterwards unless it was renamed into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        yield tmp
    finally:
        Path(tmp).unlink(missing_ok=True)


def atomic_write(path: Path, data: bytes) -> None:
    """Write via a temp file, fsync and rename: a crash leaves the old file or the new, never half."""
    with _synced_temp(path, data) as tmp:
        os.replace(tmp, path)


def create_new(path: Path, data: bytes) -> bool:
    """Create `path` with `data` unless a file of that name exists; True if this call created it.
    The content is complete before the name appears (a hard link of a synced temp file), and of
    several writers racing for one name (threads, processes, hosts sharing the folder) exactly
    one gets it."""
    with _synced_temp(path, data) as tmp:
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        return True


_reported_clashes: set[tuple[str, str]] = set()


def unique_ids(claims: dict[str, str]) -> dict[str, str]:
    """relpath -> id, where two files claiming one id both get an id made from their path,
    so neither hides the other and the result does not depend on reading order."""
    count: dict[str, int] = {}
    for rid in claims.values():
        count[rid] = count.get(rid, 0) + 1
    out = {}
    taken = {rid for rid, n in count.items() if n == 1}
    for relpath, rid in sorted(claims.items()):
        if count[rid] > 1:
            base = slugify(relpath.removesuffix(".md")) or "runbook"
            new_id, n = base, 1
            while new_id in taken:  # the path's id may itself be some file's own id
                n += 1
                new_id = f"{base}-{n}"
            taken.add(new_id)
            out[relpath] = new_id
            if (relpath, rid) not in _reported_clashes:  # once per file, not on every scan
                _reported_clashes.add((relpath, rid))
                log.warning("%s: id %r is claimed by %d files; served as %r", relpath, rid, count[rid], new_id)
        else:
            out[relpath] = rid
    return out


class RunbookLibrary:
    """A folder of markdown runbooks. The files are the truth; this reads them (LibraryWriter writes)."""

    def __init__(self, root: Path):
        self.root = Path(root).resolve()
        self._lock = threading.RLock()
        self._cache: dict[str, tuple[tuple[int, int], str, ParseResult]] = {}
        self._ids: dict[str, str] = {}  # runbook id -> relpath
        self._clashes: dict[str, list[str]] = {}  # an id several files claim -> the ids they got
        self._warned: set[tuple[str, str]] = set()

    # -- discovery -------------------------------------------------------------------------
    def relpaths(self) -> list[str]:
        """Every markdown file under the root, '/'-separated, skipping hidden folders and links
        that lead outside the root."""
        if not self.root.is_dir():
            return []
        found = []
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in filenames:
                if name.endswith(".md") and not name.startswith("."):
                    path = Path(dirpath, name)
                    if path.is_symlink() and not self._inside(path):
                        continue
                    found.append(path.relative_to(self.root).as_posix())
        return sorted(found)

    def _inside(self, link: Path) -> bool:
        """A symlink to a file outside the library (say /etc/passwd) would be served as a
        runbook: it is skipped, with one warning per link, and never breaks a scan."""
        if link.resolve().is_relative_to(self.root):
            return True
        key = (link.relative_to(self.root).as_posix(), "outside")
        if key not in self._warned:
            self._warned.add(key)
            log.warning("%s is a link to %s, outside the library; skipped", key[0], link.resolve())
        return False

    def resolve(self, relpath: str) -> Path:
        """The absolute path of a library file; refuses anything that escapes the root."""
        pure = PurePosixPath(relpath)
        if pure.is_absolute() or ".." in pure.parts or not relpath.strip():
            raise InvalidInput(f"path {relpath!r} must be relative to the library root without '..'")
        if "\x00" in relpath or any(len(part.encode("utf-8", "replace")) > 255 for part in pure.parts):
            # The file system refuses such names (ENAMETOOLONG, embedded NUL): say so instead of failing.
            raise InvalidInput(f"path {relpath[:60]!r}... has a folder or file name over 255 bytes or a NUL; "
                               "use shorter names")
        path = (self.root / pure).resolve()
        if not path.is_relative_to(self.root):
            raise InvalidInput(f"path {relpath!r} leaves the library root")
        return path

    # -- reading ---------------------------------------------------------------------------
    def load(self, relpath: str) -> tuple[str, ParseResult]:
        """(content hash, parse result) for one file, cached on mtime and size."""
        path = self.resolve(relpath)
        st = path.stat()
        key = (st.st_mtime_ns, st.st_size)
        with self._lock:
            hit = self._cache.get(relpath)
            if hit and hit[0] == key:
                return hit[1], hit[2]
        if st.st_size > MAX_FILE_BYTES:
            data = b""
            result = ParseResult(None, [f"file is larger than {MAX_FILE_BYTES} bytes; skipped"])
        else:
            data = path.read_bytes()
            result = parse_runbook(data, relpath)
        digest = file_hash(data)
        message = "; ".join(result.warnings)
        if message and (relpath, message) not in self._warned:  # one warning per file, not per scan
            self._warned.add((relpath, message))
            log.warning("%s: %s", relpath, message)
        with self._lock:
            self._cache[relpath] = (key, digest, result)
        return digest, result

    def scan(self) -> dict[str, tuple[str, Runbook]]:
        """relpath -> (hash, runbook) for every readable runbook; ids made unique."""
        out: dict[str, tuple[str, Runbook]] = {}
        for relpath in self.relpaths():
            try:
                digest, result = self.load(relpath)
            except OSError as exc:
                log.warning("%s: cannot be read (%s); skipped", relpath, exc)
                continue
            if result.runbook is not None:
                out[relpath] = (digest, result.runbook)
        self._assign_ids(out)
        return out

    def _assign_ids(self, parsed: dict[str, tuple[str, Runbook]]) -> None:
        ids = unique_ids({relpath: rb.id for relpath, (_, rb) in parsed.items()})
        clashes: dict[str, list[str]] = {}
        for relpath, rid in ids.items():
            digest, rb = parsed[relpath]
            if rb.id != rid:  # a copy: the cached parse keeps the id the file claims
                clashes.setdefault(rb.id, []).append(rid)
                parsed[relpath] = (digest, rb.model_copy(update={"id": rid}))
        with self._lock:
            self._ids = {rid: relpath for relpath, rid in ids.items()}
            self._clashes = {claimed: sorted(got) for claimed, got in clashes.items()}

    def _relpath_of(self, runbook_id: str) -> str | None:
        """The file of an id, rescanning once when the id is unknown or its file is gone."""
        with self._lock:
            relpath = self._ids.get(runbook_id)
        if relpath is None or not self.resolve(relpath).exists():
            self.scan()
            with self._lock:
                relpath = self._ids.get(runbook_id)
        return relpath

    def get(self, runbook_id: str) -> Runbook:
        """The runbook with this id; ids are matched case-insensitively ('Pod-OOMKilled')."""
        rid = runbook_id if runbook_id in self._ids else slugify(runbook_id) or runbook_id
        relpath = self._relpath_of(rid)
        if relpath is None:
            self._refuse_clash(rid)
            raise NotFound(f"no runbook with id {runbook_id!r}; use `search` to find runbook ids")
        _, result = self.load(relpath)
        if result.runbook is None:
            raise NotFound(f"runbook {rid!r} ({relpath}) has no readable content")
        rb = result.runbook.model_copy()
        rb.id = rid
        return rb

    def find(self, text: str) -> Runbook:
        """What a person types for a runbook: its id in any case, an alert it handles, or a
        runbook_url (Alertmanager carries them lower-cased, often with the file's path)."""
        text = text.strip()
        try:
            return self.get(text)
        except NotFound:
            pass
        url = urlsplit(text) if "://" in text or text.startswith("/") else None
        path = unquote(url.path).strip("/") if url else ""
        if path:
            found = self._by_path(path)
            if found is not None:
                return self.get(found)
        name = path.rsplit("/", 1)[-1].removesuffix(".md").removesuffix(".html") if url else text
        if url and name and slugify(name) in self._ids:
            return self.get(slugify(name))
        handlers = sorted(rid for rid, rb in self._runbooks().items()
                          if name and name.lower() in {a.lower() for a in rb.alerts})
        if len(handlers) == 1:
            return self.get(handlers[0])
        if handlers:
            raise InvalidInput(f"alert {name!r} is handled by {len(handlers)} runbooks: {', '.join(handlers)}; "
                               "ask for one of these ids")
        raise NotFound(f"no runbook with id, alert name or runbook_url {text!r}; use `search` to find runbook ids")

    def _by_path(self, path: str) -> str | None:
        """The id of the file whose path (without .md, any case) ends the URL path."""
        wanted = path.lower().removesuffix(".md").removesuffix(".html")
        with self._lock:
            files = {relpath.lower().removesuffix(".md"): rid for rid, relpath in self._ids.items()}
        matches = sorted({rid for stem, rid in files.items() if wanted == stem or wanted.endswith("/" + stem)})
        return matches[0] if len(matches) == 1 else None

    def _runbooks(self) -> dict[str, Runbook]:
        return {rb.id: rb for _, rb in self.scan().values()}

    def _refuse_clash(self, rid: str) -> None:
        """Several files claim this id, so each got a longer one: name them rather than 'not found'."""
        with self._lock:
            got = self._clashes.get(rid)
        if got:
            raise InvalidInput(f"id {rid!r} is claimed by {len(got)} files, served as {', '.join(got)}; "
                               "ask for one of these ids")

    def path_of(self, runbook_id: str) -> str | None:
        with self._lock:
            return self._ids.get(runbook_id)
