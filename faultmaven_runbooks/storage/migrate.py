"""Bring the schema up to date at start, with the Alembic migrations shipped in the package."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
# Alembic's `context` is one module-level proxy: two migrations in threads of one process would
# share it. Across processes (replicas), the database serialises them (see migrations/env.py).
_one_at_a_time = threading.Lock()


def _config(connection, scripts: Path) -> Config:
    config = Config()
    config.set_main_option("script_location", str(scripts))
    config.attributes["connection"] = connection
    return config


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(scripts: Path = MIGRATIONS) -> str | None:
    return ScriptDirectory(str(scripts)).get_current_head()


def upgrade(engine: Engine, scripts: Path = MIGRATIONS) -> str | None:
    """Apply every pending migration in one transaction; returns the revision now in force.

    If one fails, the transaction rolls back and the exception propagates: the database keeps
    the schema (and data) it had, so the previous release still runs against it.
    """
    with _one_at_a_time:
        before = current_revision(engine)
        if before == head_revision(scripts):
            return before
        with engine.connect() as conn:
            command.upgrade(_config(conn, scripts), "head")
        after = current_revision(engine)
    log.info("state database migrated from %s to %s", before or "an empty database", after)
    return after
