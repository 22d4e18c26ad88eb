"""Shared fixtures: a small library of our own, services on a fast test embedder or the real model.

State lives in SQLite in each test's data dir. Tests marked `both_stores` (the features whose
behaviour depends on the store) run a second time with it in a fresh database of a real
PostgreSQL server, which the session starts (initdb + pg_ctl in a temp dir) when first needed.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import gc
import os
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Each run compiles the real model into a cache of its own, as on a fresh machine; servers the
# tests start inherit it, and so do pytest-xdist's workers (the first one to need the model
# compiles it; a second compile under way at the same time keeps the first one's result).
if "PYTEST_XDIST_WORKER" not in os.environ:
    _MODEL_CACHE = tempfile.TemporaryDirectory(prefix="faultmaven-model-cache-")
    os.environ["FAULTMAVEN_RUNBOOKS_MODEL_CACHE"] = _MODEL_CACHE.name

from faultmaven_runbooks.memory import freeze_start_up_objects, pause_collector  # noqa: E402
from faultmaven_runbooks.service import RunbookService  # noqa: E402
from faultmaven_runbooks.settings import Settings  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parent.parent
SHIPPED_LIBRARY = ROOT / "runbooks"


class FrozenClock:
    """A clock the test sets: dates stamped by the service are the test's, never today's."""

    def __init__(self, at: dt.datetime):
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += dt.timedelta(**delta)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(dt.datetime(2031, 5, 17, 9, 30, tzinfo=dt.UTC))


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server for this session (tests/storage/pg_server.py)."""
    from tests.storage.pg_server import PostgresServer

    server = PostgresServer().start()
    yield server
    server.destroy()


@pytest.hookimpl(wrapper=True)
def pytest_collection(session: pytest.Session):
    """Collection imports every test module, and with them the whole product: thousands of
    pydantic-core validators that are never garbage and are slow to traverse. The collector is
    paused while they are built, as a served process pauses it, then they are
    frozen out of it, and young collections come rarer: a worker spends half the time it did
    collecting garbage (5.0 s against 2.6 s in one process running 321 tests for a minute)."""
    pause_collector()
    try:
        return (yield)
    finally:
        gc.collect()
        freeze_start_up_objects()
        gc.set_threshold(10_000, 10, 10)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The order in which pytest-xdist hands whole modules to the workers (`make test` keeps it).
    Modules marked `long` first, then the rest by number of tests, most first (pytest-xdist's own
    order). Sorted by number of tests alone, the long modules of one or two tests (servers,
    browsers, schemathesis) came last, and the run ended on one of them for 10-20 s with the other
    workers done. Of the modules on the real model only test_embedder is marked: it compiles the model
    while the others run; the rest, handed out first, would wait on that compile."""
    tests_in = Counter(item.path for item in items)
    items.sort(key=lambda item: (item.get_closest_marker("long") is None, -tests_in[item.path], str(item.path)))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A `both_stores` test that builds services runs on SQLite and on PostgreSQL ([sqlite] and
    [postgresql] in its id); the real-model tests stay on SQLite (the store is not what they test)."""
    marked = metafunc.definition.get_closest_marker("both_stores")
    if marked and "database_url" in metafunc.fixturenames and not metafunc.definition.get_closest_marker("real_model"):
        metafunc.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def database_url(request) -> str | None:
    """The state database for a test's services: None (SQLite in the data dir), or for the
    [postgresql] run of a `both_stores` test a fresh schema of the session's server."""
    if getattr(request, "param", "sqlite") == "sqlite":
        return None
    return request.getfixturevalue("postgres").create_schema()


@pytest.fixture
def library_dir(tmp_path: Path) -> Path:
    """A private copy of the fixture library, so tests may add, change and delete files."""
    target = tmp_path / "library"
    shutil.copytree(FIXTURES / "library", target)
    return target


@pytest.fixture
def settings(library_dir: Path, tmp_path: Path, database_url) -> Settings:
    return Settings(library_dir=library_dir, data_dir=tmp_path / "data", embedding_model="hash:256",
                    database_url=database_url)


@pytest.fixture
def service(settings: Settings) -> RunbookService:
    svc = RunbookService(settings)
    svc.reindex()
    yield svc
    svc.close()


@pytest.fixture(scope="session")
def real_service(tmp_path_factory: pytest.TempPathFactory) -> RunbookService:
    """The shipped library on the real bundled all-MiniLM-L6-v2 model (loaded once per session).

    The first pytest-xdist worker to need it embeds the library into a data dir of this run; the
    others copy that dir, so their own index pass finds every runbook unchanged."""
    base = tmp_path_factory.getbasetemp()
    run_dir = base.parent if "PYTEST_XDIST_WORKER" in os.environ else base  # shared by this run's workers
    built = run_dir / "real-data-built"
    with open(run_dir / "real-data.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (built / "complete").exists():
            builder = RunbookService(Settings(library_dir=SHIPPED_LIBRARY, data_dir=built))
            builder.reindex()
            builder.close()
            (built / "complete").touch()
    data = tmp_path_factory.mktemp("real-data")
    shutil.copytree(built, data, dirs_exist_ok=True)
    svc = RunbookService(Settings(library_dir=SHIPPED_LIBRARY, data_dir=data))
    svc.reindex()
    svc.warm_up().join()  # nothing was left to embed, so load the model now: searches never wait for it
    return svc
