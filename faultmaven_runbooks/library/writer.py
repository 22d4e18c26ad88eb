"""The one write path of the library: every runbook a person, `learn` or a FaultMaven case
writes goes through here.

- A new runbook gets the first free id (`base`, `base-2`, ...: one allocator for everyone) and
  its file is created only if no file has that name (storage's `create_new`: of two writers
  racing for a name, exactly one gets it).
- An update holds the runbook's lock (storage/locks.py: every thread, process and replica),
  keeps the bytes it replaces as a version in the state store, numbers the new version and
  replaces the file atomically.
- It all happens in one state transaction, which the caller may share (a `learn` adds its
  statistics to it): if the transaction fails, the files it wrote are put back as they were;
  once it commits, the search index is told about them. A process killed between a file's
  rename and the commit leaves the new file whole and its previous version unrecorded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from ..clock import Clock
from ..errors import Conflict, InvalidInput, NotFound
from .markdown import split_front_matter
from .render import Markdown
from .store import RunbookLibrary, atomic_write, create_new

if TYPE_CHECKING:
    from ..storage import Repositories

log = logging.getLogger(__name__)

Reindex = Callable[[list[str]], object]
# change(front matter, body) of the current file -> the new runbook, or None: nothing to write.
Change = Callable[[dict, str], "Markdown | None"]
MAX_SUFFIX = 1000  # ids tried before a create gives up: base, base-2, ..., base-1000


@dataclass
class Written:
    id: str
    path: str
    version: int
    created: bool
    changed: bool = True
    indexed: bool = False  # set once the session committed and the index took the file


def check_folder(folder: str) -> str:
    # Absolute paths and '..' would write outside the library (path traversal); hidden folders
    # are skipped by the library scan, so a runbook written there would silently vanish.
    if folder.startswith(("/", "~")) or "\\" in folder or ":" in folder:
        raise InvalidInput(f"folder {folder!r} must be a path relative to the library root")
    folder = folder.strip("/")
    if any(part.startswith(".") for part in PurePosixPath(folder).parts):
        raise InvalidInput(f"folder {folder!r} must not contain hidden or '..' parts")
    return folder


def file_version(meta: dict) -> int | None:
    """The version a runbook's front matter states (at least 1), or None when it states none."""
    if meta.get("version") is None:
        return None
    try:
        return max(1, int(str(meta["version"]).split(".")[0]))
    except (TypeError, ValueError):
        return 1


class LibraryWriter:
    def __init__(self, library: RunbookLibrary, store, clock: Clock, reindex: Reindex | None = None):
        self.library = library
        self.store = store
        self.clock = clock
        self.reindex = reindex

    @contextmanager
    def session(self) -> Iterator[WriteSession]:
        """A transaction to write runbooks (and any other state) in; see the module docstring."""
        session = WriteSession(self)
        try:
            with self.store.transaction() as tx:
                session._tx = tx
                yield session
        except BaseException:
            session.undo()
            raise
        indexed = self.index(session.paths)
        for written in session.written:
            written.indexed = indexed and written.changed

    def create(self, runbook_id: str, folder: str, render: Callable[[str], Markdown], **options) -> Written:
        with self.session() as session:
            written = session.create(runbook_id, folder, render, **options)
        return written

    def update(self, runbook_id: str, change: Change, **options) -> Written:
        with self.session() as session:
            written = session.update(runbook_id, change, **options)
        return written

    def index(self, relpaths: list[str]) -> bool:
        if not relpaths or self.reindex is None:
            return False
        try:
            self.reindex(relpaths)
            return True
        except Exception:  # the file is written and is the truth; the index catches up on the next sync
            log.exception("indexing %s failed; it will be indexed on the next reindex", relpaths)
            return False


class WriteSession:
    def __init__(self, writer: LibraryWriter):
        self.writer = writer
        self.library = writer.library
        self._tx: Repositories | None = None  # set by LibraryWriter.session()
        self.paths: list[str] = []  # library paths written, to index after the commit
        self.written: list[Written] = []
        self._undo: list[tuple[Path, bytes | None]] = []

    @property
    def tx(self) -> Repositories:
        """The session's transaction (its repositories), for any state written with the files."""
        if self._tx is None:
            raise RuntimeError("a WriteSession is used inside `with writer.session() as session:`")
        return self._tx

    def _today(self) -> str:
        return self.writer.clock().date().isoformat()

    def create(self, runbook_id: str, folder: str, render: Callable[[str], Markdown], *, exact: bool = False,
               stem: str | None = None) -> Written:
        """Write a new runbook as `folder/<stem or id>.md`. With `exact`, the id and file name must
        be free (Conflict otherwise); without, the first free `id-N` / `stem-N` is taken."""
        folder = check_folder(folder)
        self.library.scan()
        for n in range(1, MAX_SUFFIX + 1):
            suffix = "" if n == 1 else f"-{n}"
            rid, name = runbook_id + suffix, (stem or runbook_id) + suffix
            relpath = f"{folder}/{name}.md" if folder else f"{name}.md"
            path = self.library.resolve(relpath)  # refuses anything that escapes the library
            self.tx.locks.runbook(rid)
            taken = self.library.path_of(rid)
            if taken is not None:
                if exact:
                    raise Conflict(f"a runbook with id {rid!r} already exists ({taken}); choose another id or "
                                   "update that runbook")
                continue
            doc = render(rid)
            today = self._today()
            doc.meta.update(id=rid, version=1)
            for key in ("created", "last_updated"):
                if not doc.meta.get(key):  # a placeholder keeps its place in the front matter
                    doc.meta[key] = today
            if create_new(path, doc.text().encode("utf-8")):
                return self._wrote(path, None, Written(rid, relpath, 1, created=True))
            if exact:
                raise Conflict(f"file {relpath} already exists; choose another id or folder")
        raise Conflict(f"no free id from {runbook_id!r} to {runbook_id}-{MAX_SUFFIX}; choose another id")

    def update(self, runbook_id: str, change: Change, *, author: str | None = None, note: str | None = None,
               expected_version: int | None = None) -> Written:
        """Rewrite a runbook through `change`, keeping what it replaces as a version."""
        tx = self.tx
        tx.locks.runbook(runbook_id)
        self.library.get(runbook_id)  # NotFound with a hint when the id is unknown
        relpath = self.library.path_of(runbook_id)
        if relpath is None:
            raise NotFound(f"no runbook with id {runbook_id!r}; use `search` to find runbook ids")
        path = self.library.resolve(relpath)
        old = path.read_bytes()
        meta, body, _ = split_front_matter(old.decode("utf-8", errors="replace"))
        # The file's own version wins; a crash after its version was kept but before it was
        # replaced just keeps the same bytes again next time instead of skipping a number.
        current = file_version(meta) or tx.versions.last_version(runbook_id) + 1
        if expected_version is not None and expected_version != current:
            raise Conflict(f"runbook {runbook_id!r} is at version {current}, not {expected_version}: "
                           "read it again and reapply your change")
        doc = change(dict(meta), body)
        if doc is None:
            return self._remember(Written(runbook_id, relpath, current, created=False, changed=False))
        try:
            tx.versions.save(runbook_id, current, old, author, note)
        except Conflict:
            # Another text was kept as this version (the file was restored or edited by hand
            # without a new number): keep this one too, under the next free number.
            kept = tx.versions.last_version(runbook_id) + 1
            tx.versions.save(runbook_id, kept, old, author, f"{note or ''} (the file said version {current})".strip())
            current = kept
        doc.meta.update(id=runbook_id, version=current + 1, last_updated=self._today())
        if meta.get("created"):
            doc.meta["created"] = meta["created"]  # history: an update never moves it
        atomic_write(path, doc.text().encode("utf-8"))
        return self._wrote(path, old, Written(runbook_id, relpath, current + 1, created=False))

    def _wrote(self, path: Path, old: bytes | None, written: Written) -> Written:
        self._undo.append((path, old))
        if written.path not in self.paths:
            self.paths.append(written.path)
        return self._remember(written)

    def _remember(self, written: Written) -> Written:
        self.written.append(written)
        return written

    def undo(self) -> None:
        """Put back what this session wrote (newest first): its transaction did not commit."""
        for path, old in reversed(self._undo):
            try:
                if old is None:
                    path.unlink(missing_ok=True)
                else:
                    atomic_write(path, old)
            except OSError:
                log.exception("could not put %s back after a failed write", path)
        self._undo.clear()
