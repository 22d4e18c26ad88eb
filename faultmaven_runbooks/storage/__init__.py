"""State in a database: SQLite in the data dir by default, PostgreSQL when a URL is set.

`open_store(settings, clock)` builds the engine, migrates the schema and imports the old file
stores once; the StateStore it returns holds one repository per kind of state.
"""

from .backup import snapshot
from .engine import SETTING, database_url
from .executions import StoredExecution
from .paging import Page
from .patterns import PatternCandidate, StaleWrite, StoredIncident, StoredPattern
from .store import Repositories, StateStore, open_store

__all__ = ["SETTING", "Page", "PatternCandidate", "Repositories", "StaleWrite", "StateStore", "StoredExecution",
           "StoredIncident", "StoredPattern", "database_url", "open_store", "snapshot"]
