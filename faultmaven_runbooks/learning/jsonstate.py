"""Durable JSON state shared by threads and processes: a file lock plus atomic writes.

Every read-modify-write happens under an exclusive lock on a sibling `.lock` file, so two
concurrent writers (threads of one server, or the server and a CLI process) never lose each
other's update; the write goes through `atomic_write`, so a crash never leaves half a file.
"""

from __future__ import annotations

import copy
import fcntl
import json
import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from ..library.store import atomic_write

_thread_locks: dict[str, threading.RLock] = {}
_guard = threading.Lock()


def _thread_lock(path: Path) -> threading.RLock:
    with _guard:
        return _thread_locks.setdefault(str(path), threading.RLock())


_held = threading.local()


@contextmanager
def file_lock(lock_path: Path) -> Iterator[None]:
    """Exclusive lock held across threads (RLock) and processes (flock on the lock file).

    Re-entrant within a thread: flock on a second descriptor of the same file would wait for
    the first one forever, so a thread that already holds the lock only counts the nesting.
    """
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    key = str(lock_path)
    depth = getattr(_held, "depth", None)
    if depth is None:
        depth = _held.depth = {}
    with _thread_lock(lock_path):
        if depth.get(key):
            depth[key] += 1
            try:
                yield
            finally:
                depth[key] -= 1
            return
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            depth[key] = 1
            yield
        finally:
            depth[key] = 0
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


class JsonState:
    """One JSON document on disk, read cheaply (cached on mtime) and updated under a lock."""

    def __init__(self, path: Path, default: Callable[[], dict]):
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self._default = default
        self._cache: tuple[tuple[int, int], dict] | None = None
        self._cache_lock = threading.Lock()

    def _load(self, fresh: bool = False) -> dict:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return self._default()
        # The inode changes on every atomic replace, so coarse mtimes cannot hide a new version.
        key = (st.st_ino, st.st_mtime_ns, st.st_size)
        with self._cache_lock:
            if not fresh and self._cache and self._cache[0] == key:
                return copy.deepcopy(self._cache[1])
        try:
            data = json.loads(self.path.read_text("utf-8"))
        except (OSError, ValueError):
            # A corrupt state file must not take the server down; keep it aside for a human.
            self.path.replace(self.path.with_suffix(self.path.suffix + ".corrupt"))
            return self._default()
        if not isinstance(data, dict):
            return self._default()
        for key, value in self._default().items():  # a document written before this key existed
            data.setdefault(key, value)
        with self._cache_lock:
            self._cache = (key, data)
        return copy.deepcopy(data)

    def view(self) -> dict:
        """The cached document itself, for hot read paths: callers must not mutate it."""
        self._load()
        with self._cache_lock:
            return self._cache[1] if self._cache else self._default()

    def read(self) -> dict:
        """A private copy of the current document (callers may mutate it freely)."""
        return self._load()

    @contextmanager
    def update(self) -> Iterator[dict]:
        """Yield the document under the lock; whatever the block leaves in it is written."""
        with file_lock(self.lock_path):
            data = self._load(fresh=True)  # never trust a cache inside read-modify-write
            yield data
            raw = json.dumps(data, sort_keys=True, separators=(",", ":")).encode("utf-8")
            atomic_write(self.path, raw)
            with self._cache_lock:
                self._cache = None
