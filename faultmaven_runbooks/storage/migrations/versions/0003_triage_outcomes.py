"""Alert triage outcomes: where an alert came from, when its episode began, the runbook it was
matched to, and, once resolved, how long it took and whether a runbook was used (the figures
analytics compares: resolution time with and without runbooks).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-09

Written out in full (no imports from the package), so later changes to the model never change
what this migration does. Every column is nullable: rows written by the previous release stay
valid, and that release keeps running against this schema (it never names these columns).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)
ADDED = ("source", "starts_at", "annotations", "runbook_id", "runbook_used", "resolution_seconds")


def upgrade() -> None:
    with op.batch_alter_table("alert_triage") as batch:
        batch.add_column(sa.Column("source", sa.String(20), nullable=True))
        batch.add_column(sa.Column("starts_at", TIME, nullable=True))
        batch.add_column(sa.Column("annotations", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("runbook_id", sa.String(200), nullable=True))
        batch.add_column(sa.Column("runbook_used", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("resolution_seconds", sa.Float(), nullable=True))
    op.create_index("ix_alert_triage_resolved_at", "alert_triage", ["resolved_at", "fingerprint"])


def downgrade() -> None:
    op.drop_index("ix_alert_triage_resolved_at", table_name="alert_triage")
    with op.batch_alter_table("alert_triage") as batch:
        for name in reversed(ADDED):
            batch.drop_column(name)
