"""satisfaction surveys: invitations, answers and the low-score loop, with the staff list's indexes

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
SCHEDULED = "status = 'scheduled'"
LISTED_BY = ("agent", "group_key", "sku", "region", "channel")


def upgrade() -> None:
    op.create_table(
        "surveys",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("subject_type", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("customer_no", sa.String(length=64), nullable=False),
        sa.Column("ticket_id", sa.Uuid(), nullable=True),
        sa.Column("agent", sa.String(length=128), nullable=True),
        sa.Column("group_key", sa.String(length=64), nullable=True),
        sa.Column("sku", sa.String(length=64), nullable=True),
        sa.Column("region", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=True),
        sa.Column("business_line", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("send_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("skip_reason", sa.String(length=64), nullable=True),
        sa.Column("token_digest", sa.String(length=64), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("nps_asked", sa.Boolean(), nullable=False),
        sa.Column("csat", sa.Integer(), nullable=True),
        sa.Column("nps", sa.Integer(), nullable=True),
        sa.Column("reasons", JSON_DOC, nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("edit_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("low_score", sa.Boolean(), nullable=False),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("follow_up_task_id", sa.Uuid(), nullable=True),
        sa.Column("follow_up_done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["parent_id"], ["surveys.id"], name=op.f("fk_surveys_parent_id_surveys")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveys")),
        sa.UniqueConstraint("parent_id", name=op.f("uq_surveys_parent_id")),
        sa.UniqueConstraint("token_digest", name=op.f("uq_surveys_token_digest")),
        sa.UniqueConstraint("follow_up_task_id", name=op.f("uq_surveys_follow_up_task_id")),
        sa.UniqueConstraint("subject_id", "resolved_at", "round", name=op.f("uq_surveys_subject_id_resolved_at_round")),
    )
    op.create_index(
        "ix_surveys_scheduled_send_at",
        "surveys",
        ["send_at"],
        postgresql_where=sa.text(SCHEDULED),
        sqlite_where=sa.text(SCHEDULED),
    )
    op.create_index(op.f("ix_surveys_customer_no_sent_at"), "surveys", ["customer_no", "sent_at"])
    op.create_index(op.f("ix_surveys_sent_at_id"), "surveys", ["sent_at", "id"])
    for column in LISTED_BY:
        op.create_index(op.f(f"ix_surveys_{column}_sent_at_id"), "surveys", [column, "sent_at", "id"])


def downgrade() -> None:
    op.drop_table("surveys")
