"""State in a database: SQLite in the data dir by default, PostgreSQL when a URL is set.

`open_store(settings, clock)` builds the engine, migrates the schema and imports the old file
stores once; the StateStore it returns holds one repository per kind of state. The service
holds a `LazyStore`, which does that on first use.

Names are imported on first use (PEP 562): importing `storage.lazy` at start-up must not pull
in SQLAlchemy and Alembic, which only the first request that needs state pays for.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

_EXPORTS = {
    "snapshot": "backup", "SETTING": "engine", "database_url": "engine", "StoredExecution": "executions",
    "LazyStore": "lazy", "Page": "paging", "PatternCandidate": "patterns", "StoredIncident": "patterns",
    "StoredPattern": "patterns", "Repositories": "store", "StateStore": "store", "open_store": "store",
}
__all__ = ["LazyStore", "Page", "PatternCandidate", "Repositories", "SETTING", "StaleWrite", "StateStore",
           "StoredExecution", "StoredIncident", "StoredPattern", "database_url", "open_store", "snapshot"]

from ..errors import StaleWrite  # noqa: E402  (light: re-exported where repositories raise it)

if TYPE_CHECKING:
    from .backup import snapshot
    from .engine import SETTING, database_url
    from .executions import StoredExecution
    from .lazy import LazyStore
    from .paging import Page
    from .patterns import PatternCandidate, StoredIncident, StoredPattern
    from .store import Repositories, StateStore, open_store


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
