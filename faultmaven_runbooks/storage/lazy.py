"""The state store as the service holds it: opened on first use, not at start-up.

Start-up stays quick (SQLAlchemy, the migrations and the import of old state files wait for the
first call that needs state), and a database that is down when the server starts costs that
call a clear StoreUnavailable, not the server: the next call tries to open it again.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from ..clock import Clock, utc_now

if TYPE_CHECKING:
    from .store import StateStore


class LazyStore:
    """Stands in for a StateStore: its repositories, `transaction()` and the rest are the
    opened store's (`store.executions.get(...)` opens it if needed)."""

    def __init__(self, settings, clock: Clock = utc_now):
        self._settings = settings
        self._clock = clock
        self._opened: StateStore | None = None
        self._lock = threading.Lock()

    def open(self) -> StateStore:
        if self._opened is None:
            with self._lock:
                if self._opened is None:
                    from .store import open_store

                    self._opened = open_store(self._settings, self._clock)
        return self._opened

    def describe(self) -> str:
        """Where state lives, without opening anything (and never with a password)."""
        from .engine import database_url, describe

        return describe(database_url(self._settings))

    def __getattr__(self, name: str):
        if name.startswith("_"):  # never for our own attributes (copy, pickle, half-built objects)
            raise AttributeError(name)
        return getattr(self.open(), name)

    def close(self) -> None:
        with self._lock:
            if self._opened is not None:
                self._opened.close()
                self._opened = None
