"""knowledge base cases: articles linked to the tickets they solved, read counts, and one helpful / not-helpful vote
per reader and article with its tallies on the article

Revision ID: 0028
Revises: 0027
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

COUNTERS = ("views", "helpful_votes", "unhelpful_votes")


def upgrade() -> None:
    with op.batch_alter_table("kb_articles") as batch:
        for name in COUNTERS:
            batch.add_column(sa.Column(name, sa.BigInteger(), nullable=False, server_default="0"))
    op.create_index(op.f("ix_kb_articles_views_id"), "kb_articles", ["views", "id"])
    op.create_table(
        "kb_article_tickets",
        sa.Column("article_id", sa.Uuid(), nullable=False),
        sa.Column("ticket_id", sa.Uuid(), nullable=False),
        sa.Column("linked_by", sa.String(length=128), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["kb_articles.id"], name=op.f("fk_kb_article_tickets_article_id_kb_articles")
        ),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_kb_article_tickets_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("article_id", "ticket_id", name=op.f("pk_kb_article_tickets")),
    )
    op.create_index(
        op.f("ix_kb_article_tickets_article_id_linked_at_ticket_id"),
        "kb_article_tickets",
        ["article_id", "linked_at", "ticket_id"],
    )
    op.create_index(
        op.f("ix_kb_article_tickets_ticket_id_linked_at_article_id"),
        "kb_article_tickets",
        ["ticket_id", "linked_at", "article_id"],
    )
    op.create_table(
        "kb_article_votes",
        sa.Column("article_id", sa.Uuid(), nullable=False),
        sa.Column("voter", sa.String(length=160), nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("voted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["kb_articles.id"], name=op.f("fk_kb_article_votes_article_id_kb_articles")
        ),
        sa.PrimaryKeyConstraint("article_id", "voter", name=op.f("pk_kb_article_votes")),
    )


def downgrade() -> None:
    op.drop_table("kb_article_votes")
    op.drop_index(op.f("ix_kb_article_tickets_ticket_id_linked_at_article_id"), table_name="kb_article_tickets")
    op.drop_index(op.f("ix_kb_article_tickets_article_id_linked_at_ticket_id"), table_name="kb_article_tickets")
    op.drop_table("kb_article_tickets")
    op.drop_index(op.f("ix_kb_articles_views_id"), table_name="kb_articles")
    with op.batch_alter_table("kb_articles") as batch:
        for name in reversed(COUNTERS):
            batch.drop_column(name)
