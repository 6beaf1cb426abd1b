"""knowledge base: articles, their versions, and the search rows of live articles with each database's index of our
own tokens (an FTS5 table on SQLite kept in step by triggers, a GIN index of their tsvector on PostgreSQL)

Revision ID: 0026
Revises: 0025
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
LEXEMES = "array_to_tsvector(string_to_array(tokens, ' '))"
SQLITE_TRIGGERS = (
    """CREATE TRIGGER kb_search_ai AFTER INSERT ON kb_search BEGIN
        INSERT INTO kb_search_fts(rowid, tokens) VALUES (new.doc, new.tokens);
    END""",
    """CREATE TRIGGER kb_search_ad AFTER DELETE ON kb_search BEGIN
        INSERT INTO kb_search_fts(kb_search_fts, rowid, tokens) VALUES ('delete', old.doc, old.tokens);
    END""",
    """CREATE TRIGGER kb_search_au AFTER UPDATE OF tokens ON kb_search BEGIN
        INSERT INTO kb_search_fts(kb_search_fts, rowid, tokens) VALUES ('delete', old.doc, old.tokens);
        INSERT INTO kb_search_fts(rowid, tokens) VALUES (new.doc, new.tokens);
    END""",
)


def upgrade() -> None:
    op.create_table(
        "kb_articles",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("business_line", sa.String(length=64), nullable=True),
        sa.Column("translation_of", sa.Uuid(), nullable=True),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("live_version", sa.Integer(), nullable=True),
        sa.Column("approved_by", sa.String(length=128), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source_ticket_id", sa.Uuid(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["translation_of"], ["kb_articles.id"], name=op.f("fk_kb_articles_translation_of_kb_articles")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_articles")),
    )
    op.create_index(op.f("ix_kb_articles_created_at_id"), "kb_articles", ["created_at", "id"])
    op.create_index(op.f("ix_kb_articles_status_created_at_id"), "kb_articles", ["status", "created_at", "id"])
    op.create_table(
        "kb_article_versions",
        sa.Column("article_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=True),
        sa.Column("tags", JSON, nullable=False),
        sa.Column("product_lines", JSON, nullable=False),
        sa.Column("visibility", sa.String(length=16), nullable=False),
        sa.Column("author", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["kb_articles.id"], name=op.f("fk_kb_article_versions_article_id_kb_articles")
        ),
        sa.PrimaryKeyConstraint("article_id", "number", name=op.f("pk_kb_article_versions")),
    )
    op.create_table(
        "kb_search",
        sa.Column("doc", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("article_id", sa.Uuid(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=True),
        sa.Column("visibility", sa.String(length=16), nullable=False),
        sa.Column("business_line", sa.String(length=64), nullable=True),
        sa.Column("product_lines", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("tokens", sa.Text(), nullable=False),
        sa.Column("helpful", sa.Integer(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["kb_articles.id"], name=op.f("fk_kb_search_article_id_kb_articles")),
        sa.PrimaryKeyConstraint("doc", name=op.f("pk_kb_search")),
        sa.UniqueConstraint("article_id", name=op.f("uq_kb_search_article_id")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE INDEX ix_kb_search_lexemes ON kb_search USING gin (({LEXEMES}))")
    else:
        # External content: the tokens live once, in kb_search. Our tokens are ASCII letters and digits or Chinese
        # characters, separated by spaces: the `ascii` tokenizer splits on the spaces only and keeps every other
        # character as part of a token.
        op.execute(
            "CREATE VIRTUAL TABLE kb_search_fts USING fts5(tokens, content='kb_search', content_rowid='doc',"
            " tokenize='ascii')"
        )
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        for trigger in ("kb_search_au", "kb_search_ad", "kb_search_ai"):
            op.execute(f"DROP TRIGGER {trigger}")
        op.execute("DROP TABLE kb_search_fts")
    op.drop_table("kb_search")
    op.drop_table("kb_article_versions")
    op.drop_index(op.f("ix_kb_articles_status_created_at_id"), table_name="kb_articles")
    op.drop_index(op.f("ix_kb_articles_created_at_id"), table_name="kb_articles")
    op.drop_table("kb_articles")
