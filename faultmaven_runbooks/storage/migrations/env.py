"""Alembic environment: runs only programmatically (storage/migrate.py hands it a connection).

All pending migrations run in one transaction. PostgreSQL and SQLite (with the BEGIN that
storage/engine.py emits) both have transactional DDL, so a migration that fails leaves the
previous schema exactly as it was.
"""

from alembic import context

from faultmaven_runbooks.storage.schema import Base

# Any constant: replicas starting together take this lock, so one migrates and the others then
# find the schema current.
MIGRATION_LOCK = 0x46_4D_52_42  # "FMRB"

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, transactional_ddl=True,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
    context.run_migrations()
