"""Migrations: the shipped ones build exactly the models' schema, and one that fails half-way
leaves the previous schema and data as they were, on both databases."""

from __future__ import annotations

import shutil

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from faultmaven_runbooks.storage import open_store
from faultmaven_runbooks.storage.engine import make_engine
from faultmaven_runbooks.storage.migrate import MIGRATIONS, current_revision, head_revision, upgrade
from faultmaven_runbooks.storage.schema import Base

from . import workers
from .support import execution
from .workers import REPLICAS

BROKEN = '''
import sqlalchemy as sa
from alembic import op

revision = "9999"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("half_done", sa.Column("id", sa.Integer, primary_key=True))
    op.add_column("executions", sa.Column("extra", sa.Text))
    # A table rebuild on SQLite (copy, drop, rename): the kind of change nobody can undo by hand.
    with op.batch_alter_table("audit_log", recreate="always") as batch:
        batch.alter_column("event", type_=sa.String(300))
    op.execute("INSERT INTO counters (name, value) VALUES ('half', 1)")
    raise RuntimeError("migration 9999 failed half-way")


def downgrade():
    pass
'''


def test_the_migrations_build_exactly_the_models_schema(store):
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == []
    assert current_revision(store.engine) == head_revision()


def test_a_failed_migration_leaves_the_previous_schema_usable(store, db_settings, tmp_path):
    store.executions.add(execution("exec-000000000001"))
    store.audit.append("execute.plan", execution_id="exec-000000000001")
    scripts = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "9999_broken.py").write_text(BROKEN.format(head=head_revision()))
    engine = make_engine(db_settings)
    with pytest.raises(RuntimeError, match="failed half-way"):
        upgrade(engine, scripts)
    assert current_revision(engine) == head_revision()
    schema = inspect(engine)
    assert "half_done" not in schema.get_table_names()
    assert "extra" not in {c["name"] for c in schema.get_columns("executions")}
    assert next(c for c in schema.get_columns("audit_log") if c["name"] == "event")["type"].length == 100
    engine.dispose()
    # The release that was running goes on as before: data intact, writes work, the audit log
    # is still append-only (the rebuilt table's triggers would have been lost).
    reopened = open_store(db_settings)
    assert reopened.executions.get("exec-000000000001").status == "awaiting_approval"
    assert reopened.incidents.total() == 0
    reopened.executions.add(execution("exec-000000000002"))
    assert len(reopened.audit.entries("exec-000000000001")) == 1
    with pytest.raises(Exception, match="append-only"), reopened.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM audit_log")
    reopened.close()


def test_replicas_starting_together_migrate_once(db_settings):
    """Three processes open an empty database at once: one migrates, the others wait for it
    (PostgreSQL: an advisory lock; SQLite: BEGIN IMMEDIATE) and find the schema current."""
    barrier, outcomes = REPLICAS.Barrier(3), REPLICAS.Queue()
    procs = [REPLICAS.Process(target=workers.start,
                              args=(str(db_settings.data_dir), db_settings.database_url, barrier, outcomes))
             for _ in range(3)]
    for p in procs:
        p.start()
    assert [outcomes.get(timeout=180) for _ in procs] == ["started"] * 3
    for p in procs:
        p.join(timeout=30)
    engine = make_engine(db_settings)
    assert current_revision(engine) == head_revision()
    engine.dispose()
