"""Initial schema: learning, analytics, executions, approvers, audit log, versions, alert triage.

Revision ID: 0001
Revises:
Create Date: 2026-12-01

Written out in full (no imports from the package), so later changes to the models never
change what this migration does.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.String(200)
TIME = sa.DateTime(timezone=True)
SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _count(name: str) -> sa.Column:
    return sa.Column(name, sa.BigInteger(), server_default="0", nullable=False)


def _seconds(name: str) -> sa.Column:
    return sa.Column(name, sa.Float(), server_default="0", nullable=False)


def upgrade() -> None:
    op.create_table(
        "patterns",
        sa.Column("id", ID, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("centroid", sa.LargeBinary(), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("runbook_id", ID, nullable=True),
        sa.Column("created", TIME, nullable=False),
        sa.Column("last_seen", TIME, nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("doc", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_patterns"),
    )
    op.create_index("ix_patterns_last_seen_id", "patterns", ["last_seen", "id"])
    op.create_index("ix_patterns_runbook_id", "patterns", ["runbook_id"])

    op.create_table(
        "incidents",
        sa.Column("seq", SERIAL, autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.Text(), nullable=True),
        sa.Column("pattern_id", ID, nullable=False),
        sa.Column("recorded_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["pattern_id"], ["patterns.id"], name="fk_incidents_pattern_id"),
        sa.PrimaryKeyConstraint("seq", name="pk_incidents"),
        sa.UniqueConstraint("incident_id", name="uq_incidents_incident_id"),
    )
    op.create_index("ix_incidents_pattern_recorded", "incidents", ["pattern_id", "recorded_at", "seq"])
    op.create_index("ix_incidents_recorded_seq", "incidents", ["recorded_at", "seq"])

    op.create_table(
        "resolution_stats",
        sa.Column("name", sa.Text(), nullable=False),
        _count("uses"), _count("successes"), _count("failures"), _seconds("seconds_total"), _count("timed"),
        sa.PrimaryKeyConstraint("name", name="pk_resolution_stats"),
    )
    op.create_table(
        "resolution_side_effects",
        sa.Column("resolution", sa.Text(), nullable=False),
        sa.Column("effect", sa.Text(), nullable=False),
        _count("count"),
        sa.ForeignKeyConstraint(["resolution"], ["resolution_stats.name"],
                                name="fk_resolution_side_effects_resolution"),
        sa.PrimaryKeyConstraint("resolution", "effect", name="pk_resolution_side_effects"),
    )
    op.create_table(
        "runbook_outcomes",
        sa.Column("runbook_id", ID, nullable=False),
        _count("uses"), _count("resolved"), _count("failed"), _seconds("seconds_total"), _count("timed"),
        sa.PrimaryKeyConstraint("runbook_id", name="pk_runbook_outcomes"),
    )
    op.create_table(
        "runbook_usage",
        sa.Column("runbook_id", ID, nullable=False),
        _count("retrievals"), _count("executions"), _count("exec_succeeded"), _count("exec_failed"),
        _seconds("exec_seconds_total"), _count("resolutions"), _seconds("resolution_seconds_total"),
        _count("resolutions_timed"),
        sa.Column("last_retrieved", TIME, nullable=True),
        sa.Column("last_executed", TIME, nullable=True),
        sa.PrimaryKeyConstraint("runbook_id", name="pk_runbook_usage"),
    )
    op.create_table(
        "counters",
        sa.Column("name", ID, nullable=False),
        _count("value"),
        sa.PrimaryKeyConstraint("name", name="pk_counters"),
    )

    op.create_table(
        "executions",
        sa.Column("id", ID, nullable=False),
        sa.Column("runbook_id", ID, nullable=False),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("requester", sa.Text(), nullable=False),
        sa.Column("cluster", ID, nullable=True),
        sa.Column("plan_hash", sa.String(128), nullable=False),
        sa.Column("created", TIME, nullable=False),
        sa.Column("updated", TIME, nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_executions"),
    )
    op.create_index("ix_executions_created_id", "executions", ["created", "id"])
    for column in ("runbook", "status", "requester", "cluster"):
        name = "runbook_id" if column == "runbook" else column
        op.create_index(f"ix_executions_{column}_created", "executions", [name, "created", "id"])
    op.create_index("ix_executions_plan_hash", "executions", ["plan_hash"])
    op.create_index("ix_executions_updated", "executions", ["updated"])

    op.create_table(
        "approvers",
        sa.Column("name", ID, nullable=False),
        sa.Column("token_hash", sa.String(128), nullable=False),
        sa.Column("created", TIME, nullable=False),
        sa.Column("revoked", TIME, nullable=True),
        sa.PrimaryKeyConstraint("name", name="pk_approvers"),
        sa.UniqueConstraint("token_hash", name="uq_approvers_token_hash"),
    )

    op.create_table(
        "audit_log",
        sa.Column("seq", SERIAL, autoincrement=True, nullable=False),
        sa.Column("at", TIME, nullable=False),
        sa.Column("event", sa.String(100), nullable=False),
        sa.Column("execution_id", ID, nullable=True),
        sa.Column("entry", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_at_seq", "audit_log", ["at", "seq"])
    op.create_index("ix_audit_log_execution_id", "audit_log", ["execution_id"])
    _audit_append_only()

    op.create_table(
        "runbook_versions",
        sa.Column("runbook_id", ID, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("bytes", sa.Integer(), nullable=False),
        sa.Column("replaced_at", TIME, nullable=False),
        sa.Column("replaced_by", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("runbook_id", "version", name="pk_runbook_versions"),
    )
    op.create_index("ix_runbook_versions_replaced", "runbook_versions", ["runbook_id", "replaced_at", "version"])

    op.create_table(
        "alert_triage",
        sa.Column("fingerprint", ID, nullable=False),
        sa.Column("alertname", sa.Text(), nullable=True),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("first_seen", TIME, nullable=False),
        sa.Column("last_seen", TIME, nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("suggested_runbooks", sa.JSON(), nullable=False),
        sa.Column("dry_run_execution_id", ID, nullable=True),
        sa.Column("resolved_at", TIME, nullable=True),
        sa.PrimaryKeyConstraint("fingerprint", name="pk_alert_triage"),
    )
    op.create_index("ix_alert_triage_last_seen", "alert_triage", ["last_seen", "fingerprint"])
    op.create_index("ix_alert_triage_status_last_seen", "alert_triage", ["status", "last_seen", "fingerprint"])

    op.create_table(
        "legacy_imports",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("data_dir", sa.Text(), nullable=False),
        sa.Column("imported_at", TIME, nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_legacy_imports"),
    )


def _audit_append_only() -> None:
    """The database itself refuses to change or remove an audit entry, whatever code asks:
    a bug or a hostile statement that reaches the store cannot rewrite history."""
    if op.get_context().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'the audit log is append-only: % refused', TG_OP;
            END $$""")
        op.execute("""CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
                      FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()""")
        op.execute("""CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
                      FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()""")
        return
    for what in ("UPDATE", "DELETE"):
        op.execute(f"""CREATE TRIGGER audit_log_no_{what.lower()} BEFORE {what} ON audit_log
                       BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: {what} refused'); END""")


def downgrade() -> None:
    for table in ("legacy_imports", "alert_triage", "runbook_versions", "audit_log", "approvers", "executions",
                  "counters", "runbook_usage", "runbook_outcomes", "resolution_side_effects", "resolution_stats",
                  "incidents", "patterns"):
        op.drop_table(table)
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
