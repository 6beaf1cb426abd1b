"""complaint spikes: each series' learned baseline with its open spike, and the spikes found, with the staff list's
indexes

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

FLOATS = sa.JSON().with_variant(postgresql.ARRAY(sa.Float()), "postgresql")
LISTED_BY = ("product", "region", "ticket_type")
OPEN_SPIKE = "spike_id IS NOT NULL"
STILL_ON = "ended_at IS NULL"


def upgrade() -> None:
    # The hourly count reads tickets by created_at through ix_tickets_created_at_id (0004): no index of its own.
    op.create_table(
        "complaint_series",
        sa.Column("product", sa.String(length=64), nullable=False),
        sa.Column("region", sa.String(length=64), nullable=False),
        sa.Column("ticket_type", sa.String(length=32), nullable=False),
        sa.Column("ewma", FLOATS, nullable=False),
        sa.Column("hours_seen", sa.Integer(), nullable=False),
        sa.Column("in_spike", sa.Boolean(), nullable=False),
        sa.Column("spike_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_hour", sa.DateTime(timezone=True), nullable=True),
        sa.Column("calm_hours", sa.Integer(), nullable=False),
        sa.Column("spike_id", sa.Uuid(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("product", "region", "ticket_type", name=op.f("pk_complaint_series")),
    )
    op.create_index(
        "ix_complaint_series_open_spike_id",
        "complaint_series",
        ["spike_id"],
        postgresql_where=sa.text(OPEN_SPIKE),
        sqlite_where=sa.text(OPEN_SPIKE),
    )
    op.create_table(
        "complaint_spikes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("product", sa.String(length=64), nullable=False),
        sa.Column("region", sa.String(length=64), nullable=False),
        sa.Column("ticket_type", sa.String(length=32), nullable=False),
        sa.Column("business_line", sa.String(length=64), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("baseline", sa.Float(), nullable=False),
        sa.Column("bound", sa.Integer(), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_spikes")),
        sa.UniqueConstraint(
            "product",
            "region",
            "ticket_type",
            "started_at",
            name=op.f("uq_complaint_spikes_product_region_ticket_type_started_at"),
        ),
    )
    op.create_index(op.f("ix_complaint_spikes_started_at_id"), "complaint_spikes", ["started_at", "id"])
    for column in LISTED_BY:
        op.create_index(
            op.f(f"ix_complaint_spikes_{column}_started_at_id"), "complaint_spikes", [column, "started_at", "id"]
        )
    op.create_index(
        "ix_complaint_spikes_open_started_at_id",
        "complaint_spikes",
        ["started_at", "id"],
        postgresql_where=sa.text(STILL_ON),
        sqlite_where=sa.text(STILL_ON),
    )


def downgrade() -> None:
    op.drop_table("complaint_spikes")
    op.drop_table("complaint_series")
