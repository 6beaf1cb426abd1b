"""knowledge base: the tokens of each live article's title, indexed on their own (an FTS5 table on SQLite kept in step
by triggers, a GIN index of their tsvector on PostgreSQL), so that a search ranks the articles whose titles hold the
query first without scoring every article that holds it somewhere

Revision ID: 0032
Revises: 0030
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.domain.kb_tokens import index_tokens  # the one tokenizer the service indexes with, as of this revision

revision = "0032"
down_revision = "0030"
branch_labels = None
depends_on = None

TITLE_LEXEMES = "array_to_tsvector(string_to_array(title_tokens, ' '))"
SQLITE_TRIGGERS = (
    """CREATE TRIGGER kb_title_ai AFTER INSERT ON kb_search BEGIN
        INSERT INTO kb_title_fts(rowid, title_tokens) VALUES (new.doc, new.title_tokens);
    END""",
    """CREATE TRIGGER kb_title_ad AFTER DELETE ON kb_search BEGIN
        INSERT INTO kb_title_fts(kb_title_fts, rowid, title_tokens) VALUES ('delete', old.doc, old.title_tokens);
    END""",
    """CREATE TRIGGER kb_title_au AFTER UPDATE OF title_tokens ON kb_search BEGIN
        INSERT INTO kb_title_fts(kb_title_fts, rowid, title_tokens) VALUES ('delete', old.doc, old.title_tokens);
        INSERT INTO kb_title_fts(rowid, title_tokens) VALUES (new.doc, new.title_tokens);
    END""",
)
BATCH = 1000


def upgrade() -> None:
    # A plain ADD COLUMN with a default, not batch mode: SQLite's batch mode would recreate kb_search and drop the
    # triggers that keep kb_search_fts in step.
    op.add_column("kb_search", sa.Column("title_tokens", sa.Text(), server_default="", nullable=False))
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT doc, title FROM kb_search ORDER BY doc")).all()
    for start in range(0, len(rows), BATCH):
        bind.execute(
            sa.text("UPDATE kb_search SET title_tokens = :tokens WHERE doc = :doc"),
            [{"doc": doc, "tokens": " ".join(index_tokens(title))} for doc, title in rows[start : start + BATCH]],
        )
    if bind.dialect.name == "postgresql":
        op.execute(f"CREATE INDEX ix_kb_search_title_lexemes ON kb_search USING gin (({TITLE_LEXEMES}))")
    else:
        op.execute(
            "CREATE VIRTUAL TABLE kb_title_fts USING fts5(title_tokens, content='kb_search', content_rowid='doc',"
            " tokenize='ascii')"
        )
        op.execute("INSERT INTO kb_title_fts(kb_title_fts) VALUES ('rebuild')")
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_kb_search_title_lexemes")
    else:
        for trigger in ("kb_title_au", "kb_title_ad", "kb_title_ai"):
            op.execute(f"DROP TRIGGER {trigger}")
        op.execute("DROP TABLE kb_title_fts")
    op.drop_column("kb_search", "title_tokens")
