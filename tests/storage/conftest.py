"""Storage fixtures: every test that takes `store` runs on SQLite and on a real PostgreSQL
server (tests/conftest.py's `postgres`: initdb + pg_ctl in a temporary directory, once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest

from faultmaven_runbooks.settings import Settings
from faultmaven_runbooks.storage import StateStore, open_store


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request) -> str:
    return request.param


@pytest.fixture
def db_settings(backend, tmp_path: Path, request) -> Settings:
    """Settings for a fresh, empty state database of the backend under test."""
    url = request.getfixturevalue("postgres").create_schema() if backend == "postgresql" else None
    return Settings(_env_file=None, data_dir=tmp_path / "data", database_url=url, embedding_model="hash:256")


@pytest.fixture
def store(db_settings: Settings, clock) -> StateStore:
    opened = open_store(db_settings, clock)
    yield opened
    opened.close()


@pytest.fixture
def replica(db_settings: Settings, clock):
    """Another StateStore on the same database: a second replica, with its own engine and pool."""
    made = []

    def make() -> StateStore:
        made.append(open_store(db_settings, clock))
        return made[-1]

    yield make
    for opened in made:
        opened.close()

