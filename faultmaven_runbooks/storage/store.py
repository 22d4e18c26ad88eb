"""StateStore: one object holding every repository, on one engine.

Each repository method runs in its own short transaction; `transaction()` binds them all to
one, for a use case that must change several kinds of state together or not at all:

    with store.transaction() as tx:
        stored = tx.patterns.get(pid)
        tx.patterns.save(changed, stored.revision)   # StaleWrite rolls everything back
        tx.incidents.add(pid, data, incident_id)
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from sqlalchemy import Connection, Engine, text

from ..clock import Clock, utc_now
from .approvers import ApproverRepo
from .audit import AuditRepo
from .base import Connect
from .deliveries import DeliveryRepo
from .engine import describe, make_engine, translate_errors
from .executions import ExecutionRepo
from .importer import LegacyImportRepo, import_legacy_state
from .locks import LockRepo
from .migrate import upgrade
from .outcomes import OutcomeRepo
from .patterns import CandidateCache, IncidentRepo, PatternRepo
from .triage import TriageRepo
from .usage import UsageRepo
from .versions import VersionRepo

log = logging.getLogger(__name__)


class Repositories:
    def __init__(self, connect: Connect, clock: Clock, cache: CandidateCache | None = None):
        self.patterns = PatternRepo(connect, clock, cache)
        self.incidents = IncidentRepo(connect, clock)
        self.outcomes = OutcomeRepo(connect, clock)
        self.usage = UsageRepo(connect, clock)
        self.executions = ExecutionRepo(connect, clock)
        self.approvers = ApproverRepo(connect, clock)
        self.audit = AuditRepo(connect, clock)
        self.versions = VersionRepo(connect, clock)
        self.triage = TriageRepo(connect, clock)
        self.locks = LockRepo(connect, clock)  # transaction-scoped: use as tx.locks
        self.deliveries = DeliveryRepo(connect, clock)  # notification delivery log (alerts/notify.py)
        self.legacy_imports = LegacyImportRepo(connect, clock)  # the importer's marker and raw rows


class StateStore(Repositories):
    def __init__(self, engine: Engine, clock: Clock = utc_now):
        self.engine = engine
        self.clock = clock
        self._candidates = CandidateCache()
        super().__init__(self._connect, clock, self._candidates)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def describe(self) -> str:
        return describe(self.engine.url)

    @contextmanager
    def _connect(self, write: bool) -> Iterator[Connection]:
        with translate_errors(self.engine.url), self.engine.connect() as conn:
            # SQLite: `write` decides BEGIN IMMEDIATE (take the write lock now) or BEGIN.
            conn.execution_options(write=write)
            with conn.begin():
                yield conn

    @contextmanager
    def transaction(self) -> Iterator[Repositories]:
        """Repositories sharing one write transaction: committed when the block ends, rolled
        back if it raises. Inside the block use only the yielded repositories: the store's own
        would open a second connection, which on SQLite waits for this one's write lock."""
        with self._connect(True) as conn:
            # No shared candidate cache here: rows read inside a transaction that may roll back
            # must not be remembered as committed. Match before the transaction (see patterns.py).
            yield Repositories(lambda _write: nullcontext(conn), self.clock)

    def open(self) -> StateStore:
        """Itself: a StateStore is open (LazyStore.open() opens one)."""
        return self

    def ping(self) -> None:
        """Raise StoreUnavailable unless the database answers (for health checks)."""
        with self._connect(False) as conn:
            conn.execute(text("SELECT 1"))

    def close(self) -> None:
        self.engine.dispose()


def open_store(settings, clock: Clock = utc_now, *, import_legacy: bool = True) -> StateStore:
    """The store the service runs on: engine from settings, schema migrated to the shipped head,
    and (once per set of files) the state of the old file stores in data_dir imported."""
    engine = make_engine(settings)
    try:
        with translate_errors(engine.url):
            upgrade(engine)
        store = StateStore(engine, clock)
        if import_legacy:
            import_legacy_state(store, Path(settings.data_dir))
    except BaseException:
        engine.dispose()
        raise
    log.info("state database: %s", describe(engine.url))
    return store
