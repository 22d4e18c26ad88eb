"""Fixtures for the learning / authoring / analytics / backup tests.

A real RunbookService over a temporary copy of a few shipped runbooks, with the deterministic
hashing embedder (no model download), a temporary data dir and the state database under test
(tests/conftest.py: SQLite, and PostgreSQL for the tests marked both_stores).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from faultmaven_runbooks.service import RunbookService
from faultmaven_runbooks.settings import Settings
from tests.learning.support import ROOT, SHIPPED


@pytest.fixture
def lib_dir(tmp_path: Path) -> Path:
    lib = tmp_path / "library"
    for rel in SHIPPED:
        (lib / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / "runbooks" / rel, lib / rel)
    for folder in ("dynamic/patterns", "dynamic/incidents", "dynamic/resolutions/auto-generated"):
        (lib / folder).mkdir(parents=True, exist_ok=True)
    return lib


@pytest.fixture
def fm_settings(tmp_path: Path, lib_dir: Path, database_url) -> Settings:
    return Settings(library_dir=lib_dir, data_dir=tmp_path / "data", embedding_model="hash:256",
                    database_url=database_url, _env_file=None)


@pytest.fixture
def fm_service(fm_settings: Settings, clock) -> RunbookService:
    service = RunbookService(fm_settings, clock=clock)
    yield service
    service.close()
