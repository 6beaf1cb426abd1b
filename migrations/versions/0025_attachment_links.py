"""attachment links: where each stored file is attached, the after-sales orders' evidence counts, the retention job's
indexes, and the metadata-only attachment objects of before rewritten as legacy references

Records used to keep attachments as metadata their callers made up ({name, content_type, size, sha256, url}); they
now keep snapshots of stored files ({id, name, content_type, size, sha256, external_url}). Old entries become
snapshots with `id` null and their `url` kept as `external_url` (shown to staff as a legacy external reference, never
served), so that readers handle one shape: on the records' own columns and in timeline payloads (comments, task
reports), in batches by id.

Revision ID: 0025
Revises: 0024
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
UNATTACHED = "attached_at IS NULL AND deleted_at IS NULL"
ATTACHED = "attached_at IS NOT NULL AND deleted_at IS NULL"
BATCH = 500
RECORDS = ("tickets", "tasks", "after_sales_orders")
"""Tables whose `attachments` column is a list of attachment objects."""


def upgrade() -> None:
    op.create_table(
        "attachment_links",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("attachment_id", sa.Uuid(), nullable=False),
        sa.Column("subject_type", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("timeline_entry_id", sa.Uuid(), nullable=True),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("linked_by", sa.String(length=128), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["attachment_id"], ["attachments.id"], name=op.f("fk_attachment_links_attachment_id_attachments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachment_links")),
    )
    op.create_index(op.f("ix_attachment_links_attachment_id"), "attachment_links", ["attachment_id"])
    op.create_index(
        op.f("ix_attachment_links_subject_type_subject_id"), "attachment_links", ["subject_type", "subject_id"]
    )
    op.create_index(
        "ix_attachments_unattached_created_at",
        "attachments",
        ["created_at"],
        postgresql_where=sa.text(UNATTACHED),
        sqlite_where=sa.text(UNATTACHED),
    )
    op.create_index(
        "ix_attachments_attached_at",
        "attachments",
        ["attached_at"],
        postgresql_where=sa.text(ATTACHED),
        sqlite_where=sa.text(ATTACHED),
    )
    with op.batch_alter_table("after_sales_orders") as batch:
        for name in ("evidence_required", "evidence_clean", "evidence_pending"):
            batch.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
    for table in RECORDS:
        _rewrite(table, "attachments", _legacy_list)
    _rewrite("timeline", "payload", _legacy_payload)


def downgrade() -> None:
    for table in RECORDS:
        _rewrite(table, "attachments", _metadata_list)
    _rewrite("timeline", "payload", _metadata_payload)
    with op.batch_alter_table("after_sales_orders") as batch:
        for name in ("evidence_pending", "evidence_clean", "evidence_required"):
            batch.drop_column(name)
    op.drop_index("ix_attachments_attached_at", table_name="attachments")
    op.drop_index("ix_attachments_unattached_created_at", table_name="attachments")
    op.drop_table("attachment_links")


def _snapshot(entry: dict[str, Any]) -> dict[str, Any]:
    if "url" not in entry:
        return entry  # already a snapshot
    return {
        "id": None,
        "name": entry["name"],
        "content_type": entry["content_type"],
        "size": entry["size"],
        "sha256": entry["sha256"],
        "external_url": entry["url"],
    }


def _metadata(entry: dict[str, Any]) -> dict[str, Any] | None:
    """Back to the old shape; a stored file has no URL of the caller's, so only legacy references go back."""
    if entry.get("external_url") is None:
        return None
    return {k: entry[k] for k in ("name", "content_type", "size", "sha256")} | {"url": entry["external_url"]}


def _legacy_list(value: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [_snapshot(entry) for entry in value]


def _metadata_list(value: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [old for entry in value if (old := _metadata(entry)) is not None]


def _legacy_payload(value: dict[str, Any]) -> dict[str, Any]:
    return {**value, "attachments": _legacy_list(value["attachments"])}


def _metadata_payload(value: dict[str, Any]) -> dict[str, Any]:
    return {**value, "attachments": _metadata_list(value["attachments"])}


def _rewrite(table_name: str, column: str, convert: Any) -> None:
    """Every row whose `column` holds attachments, converted, a batch at a time in id order."""
    bind = op.get_bind()
    table = sa.table(table_name, sa.column("id", sa.Uuid()), sa.column(column, JSON))
    holds = _holds_attachments(bind.dialect.name, table_name, column)
    after = None
    while True:
        stmt = sa.select(table.c.id, table.c[column]).where(holds).order_by(table.c.id).limit(BATCH)
        if after is not None:
            stmt = stmt.where(table.c.id > after)
        rows = bind.execute(stmt).all()
        for row_id, value in rows:
            converted = convert(value)
            if converted != value:
                bind.execute(sa.update(table).where(table.c.id == row_id).values({column: converted}))
        if len(rows) < BATCH:
            return
        after = rows[-1][0]


def _holds_attachments(dialect: str, table_name: str, column: str) -> sa.TextClause:
    """Rows with at least one attachment object (a list column's, or a timeline payload's `attachments`)."""
    if table_name == "timeline":
        if dialect == "postgresql":
            return sa.text("jsonb_typeof(payload -> 'attachments') = 'array'")
        return sa.text("json_type(payload, '$.attachments') = 'array'")
    if dialect == "postgresql":
        return sa.text(f"jsonb_array_length({column}) > 0")
    return sa.text(f"json_array_length({column}) > 0")
