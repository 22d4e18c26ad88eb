"""Notification deliveries: one record per (event key, channel), the delivery log and dead letters
of alerts/notify.py (model: storage/deliveries.py).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-08

Written out in full (no imports from the package), so later changes to the model never change
what this migration does.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)
SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "notification_deliveries",
        sa.Column("seq", SERIAL, autoincrement=True, nullable=False),
        sa.Column("event_key", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("event", sa.JSON(), nullable=False),
        sa.Column("created", TIME, nullable=False),
        sa.Column("updated", TIME, nullable=False),
        sa.Column("delivered_at", TIME, nullable=True),
        sa.PrimaryKeyConstraint("seq", name="pk_notification_deliveries"),
        sa.UniqueConstraint("event_key", "channel", name="uq_notification_deliveries_event_key_channel"),
    )
    op.create_index("ix_notification_deliveries_status_updated", "notification_deliveries",
                    ["status", "updated", "seq"])
    op.create_index("ix_notification_deliveries_updated", "notification_deliveries", ["updated", "seq"])


def downgrade() -> None:
    op.drop_table("notification_deliveries")
