"""The schema as SQLAlchemy Core tables; alembic migrations create it and a test keeps them in step."""

from __future__ import annotations

from sqlalchemy import (
    ARRAY,
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    false,
    text,
    true,
)

from app.persistence.types import JsonDocument, UtcDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _audit_columns() -> list[Column]:
    return [
        Column("version", Integer, nullable=False),
        Column("created_at", UtcDateTime, nullable=False),
        Column("updated_at", UtcDateTime, nullable=False),
    ]


customers = Table(
    "customers",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("customer_no", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("phone", String(32)),
    Column("level", String(16), nullable=False),
    Column("region", String(64)),
    Column("contact_channels", JsonDocument, nullable=False),
    *_audit_columns(),
    # 流失预警: the stored churn score (null until first scored), its reasons, when, and the latest warning.
    Column("churn_score", Integer),
    Column("churn_reasons", JsonDocument),
    Column("churn_scored_at", UtcDateTime),
    Column("churn_warned_at", UtcDateTime),
    # The list filter by score, highest first; and the refresh of scores whose facts may have left the window.
    Index(
        "ix_customers_scored_churn_score_id",
        "churn_score",
        "id",
        postgresql_where=text("churn_score IS NOT NULL"),
        sqlite_where=text("churn_score IS NOT NULL"),
    ),
    Index(
        "ix_customers_at_risk_churn_scored_at",
        "churn_scored_at",
        postgresql_where=text("churn_score > 0"),
        sqlite_where=text("churn_score > 0"),
    ),
)

products = Table(
    "products",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("sku", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("model", String(100)),
    Column("warranty_months", Integer, nullable=False),
    Column("product_line", String(64)),
    *_audit_columns(),
    Index(None, "product_line", "id"),
)

sales_orders = Table(
    "sales_orders",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("order_no", String(64), nullable=False, unique=True),
    Column("customer_no", String(64), ForeignKey("customers.customer_no"), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("shipping_fee", BigInteger, nullable=False),
    Column("discount_amount", BigInteger, nullable=False),
    Column("paid_amount", BigInteger, nullable=False),
    Column("payment_status", String(16), nullable=False),
    Column("fulfilment_status", String(16), nullable=False),
    Column("paid_at", UtcDateTime),
    Column("picking_at", UtcDateTime),
    Column("picked_at", UtcDateTime),
    Column("shipped_at", UtcDateTime),
    Column("signed_at", UtcDateTime),
    Column("shipping_region", String(64)),
    Column("placed_at", UtcDateTime, nullable=False),
    *_audit_columns(),
    Index(None, "customer_no", "id"),
)

order_lines = Table(
    "order_lines",
    metadata,
    Column("order_id", Uuid, ForeignKey("sales_orders.id", ondelete="CASCADE"), primary_key=True),
    Column("line_no", Integer, primary_key=True),
    Column("sku", String(64), ForeignKey("products.sku"), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_price", BigInteger, nullable=False),
    Index(None, "sku"),
)

service_contracts = Table(
    "service_contracts",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("contract_no", String(64), nullable=False, unique=True),
    Column("customer_no", String(64), ForeignKey("customers.customer_no"), nullable=False),
    Column("skus", JsonDocument, nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
    Column("sla_level", String(16), nullable=False),
    *_audit_columns(),
    Index(None, "customer_no", "id"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("key_id", String(16), nullable=False, unique=True),
    Column("name", String(100), nullable=False),
    Column("roles", JsonDocument, nullable=False),
    Column("salt", String(32), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
)

agents = Table(
    "agents",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("user_id", String(128), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("roles", JsonDocument, nullable=False),
    Column("groups", JsonDocument, nullable=False),
    Column("skills", JsonDocument, nullable=False),
    Column("regions", JsonDocument, nullable=False),
    Column("product_lines", JsonDocument, nullable=False),
    Column("supervisor", String(128)),
    Column("active", Boolean, nullable=False),
    Column("max_open_tickets", Integer),
    # 派单: whether the agent takes work now (set by the agent), the hours they work, when they were last given work
    # and how many times (a decision's read of them is current while the count is as read); the tickets they hold and
    # those tickets' weighted load, counted by triggers on tickets (migration 0024).
    Column("availability", String(16), nullable=False, server_default="available"),
    Column("calendar", String(64)),
    Column("last_assigned_at", UtcDateTime),
    Column("assignments", BigInteger, nullable=False, server_default="0"),
    Column("open_items", Integer, nullable=False, server_default="0"),
    Column("open_load", Integer, nullable=False, server_default="0"),
    *_audit_columns(),
)

groups = Table(
    "groups",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("key", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("description", String(1000)),
    Column("business_line", String(64)),
    Column("calendar", String(64)),  # the shift of members who name none of their own
    *_audit_columns(),
)

tickets = Table(
    "tickets",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("number", String(32), nullable=False, unique=True),
    Column("customer_no", String(64), ForeignKey("customers.customer_no"), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("type", String(32), nullable=False),
    Column("priority", String(16), nullable=False),
    Column("status", String(32), nullable=False),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("category", String(64)),
    Column("tags", JsonDocument, nullable=False),
    Column("order_no", String(64)),
    Column("sku", String(64)),
    Column("serial_no", String(64)),
    Column("purchase_date", Date),
    Column("warranty_status", String(16), nullable=False),
    Column("warranty_until", Date),
    Column("fault_description", Text),
    Column("expected_by", UtcDateTime),
    Column("contact", JsonDocument, nullable=False),
    Column("region", String(64)),
    Column("business_line", String(64)),
    Column("attachments", JsonDocument, nullable=False),
    Column("assignee", String(128)),
    Column("group_key", String(64)),
    Column("escalation_level", Integer, nullable=False),
    Column("urge_count", Integer, nullable=False),
    Column("last_urged_at", UtcDateTime),
    Column("resolution", JsonDocument),
    Column("follow_up_outcome", String(16)),
    Column("close_reason", String(32)),
    Column("resolved_at", UtcDateTime),
    Column("finished_at", UtcDateTime),
    Column("created_by", String(128), nullable=False),
    Column("risk_flagged_at", UtcDateTime),
    Column("risk_reasons", JsonDocument),
    *_audit_columns(),
    Index(None, "status", "id"),
    Index(None, "status", "updated_at", "id"),
    Index(None, "customer_no", "id"),
    Index(None, "assignee", "id"),
    Index(None, "assignee", "updated_at", "id"),
    Index(None, "assignee", "status", "updated_at", "id"),
    Index(None, "status", "group_key", "id"),
    Index(None, "group_key", "id"),
    Index(None, "updated_at", "id"),
    Index(None, "order_no"),
    Index(None, "assignee", "status", "id"),
    Index(None, "status", "priority", "id"),
    Index(None, "status", "type", "id"),
    Index(None, "status", "channel", "id"),
    Index(None, "created_at", "id"),
    Index(None, "customer_no", "updated_at", "id"),
    # The claim pool's tickets of no group, oldest first: `group_key IS NULL` does not order an index by what
    # follows it, as an equality does.
    Index(
        "ix_tickets_ungrouped_status_id",
        "status",
        "id",
        postgresql_where=text("group_key IS NULL"),
        sqlite_where=text("group_key IS NULL"),
    ),
    # Auto-close: per type, the tickets awaiting follow-up by resolution time, so that the job reads due rows only.
    Index(
        "ix_tickets_pending_follow_up_type_resolved_at",
        "type",
        "resolved_at",
        postgresql_where=text("status = 'pending_follow_up'"),
        sqlite_where=text("status = 'pending_follow_up'"),
    ),
    # The high-risk filter: flagged tickets only, per status in page order (a state at a time when none is named).
    *(
        Index(
            name,
            *columns,
            postgresql_where=text("risk_flagged_at IS NOT NULL"),
            sqlite_where=text("risk_flagged_at IS NOT NULL"),
        )
        for name, columns in (
            ("ix_tickets_flagged_status_id", ("status", "id")),
            ("ix_tickets_flagged_status_updated_at_id", ("status", "updated_at", "id")),
        )
    ),
)

ticket_tags = Table(
    "ticket_tags",
    metadata,
    Column("ticket_id", Uuid, ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True),
    Column("tag", String(64), primary_key=True),
    Index(None, "tag", "ticket_id"),
)

timeline = Table(
    "timeline",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("subject_id", Uuid, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("action", String(32)),
    Column("from_status", String(32)),
    Column("to_status", String(32)),
    Column("remark", Text),
    Column("payload", JsonDocument, nullable=False),
    Column("public", Boolean, nullable=False),
    Column("remark_public", Boolean, nullable=False, server_default=true()),
    Index(None, "subject_id", "id"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("type", String(64), nullable=False),
    Column("aggregate_type", String(32), nullable=False),
    Column("aggregate_id", Uuid, nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("payload", JsonDocument, nullable=False),
    # Set by the database on insert (a sequence on PostgreSQL, the rowid on SQLite): the order consumers sort by.
    Column("sequence", BigInteger),
    Column("fanned_out", Boolean, nullable=False, server_default=false()),
    Index(None, "fanned_out", "sequence"),
    Index(None, "occurred_at"),
)

counters = Table(
    "counters",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

after_sales_orders = Table(
    "after_sales_orders",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("number", String(32), nullable=False, unique=True),
    Column("order_no", String(64), ForeignKey("sales_orders.order_no"), nullable=False),
    Column("customer_no", String(64), ForeignKey("customers.customer_no"), nullable=False),
    Column("type", String(16), nullable=False),
    Column("status", String(32), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("reason_code", String(64), nullable=False),
    Column("description", Text),
    Column("attachments", JsonDocument, nullable=False),
    Column("ticket_id", Uuid, ForeignKey("tickets.id")),
    Column("compensation_kind", String(16)),
    Column("assignee", String(128)),
    Column("reviewed_by", String(128)),
    Column("review_rule", String(64)),
    Column("lightning", Boolean, nullable=False),
    Column("return_shipment", JsonDocument, nullable=False),
    Column("replacement_shipment", JsonDocument, nullable=False),
    Column("inspection_passed", Boolean),
    Column("returned_at", UtcDateTime),
    Column("business_line", String(64)),
    Column("payment_attempts", Integer, nullable=False),
    Column("payment_reference", String(128)),
    Column("urge_count", Integer, nullable=False),
    Column("last_urged_at", UtcDateTime),
    Column("escalation_level", Integer, nullable=False),
    Column("finished_at", UtcDateTime),
    Column("created_by", String(128), nullable=False),
    # 证据: the photos the order's reason needs (fixed at creation) and those linked, clean or waiting for the scan;
    # kept on the row so that every read and list draws the approve button without reading the files.
    Column("evidence_required", Integer, nullable=False, server_default="0"),
    Column("evidence_clean", Integer, nullable=False, server_default="0"),
    Column("evidence_pending", Integer, nullable=False, server_default="0"),
    *_audit_columns(),
    Index(None, "status", "id"),
    Index(None, "customer_no", "id"),
    Index(None, "customer_no", "created_at"),
    Index(None, "order_no", "id"),
    Index(None, "assignee", "status", "id"),
    Index(None, "type", "id"),
    Index(None, "business_line", "id"),
    Index(None, "assignee", "id"),
    Index(None, "status", "type", "id"),
    Index(None, "created_at", "id"),
)

after_sales_lines = Table(
    "after_sales_lines",
    metadata,
    Column("after_sales_id", Uuid, ForeignKey("after_sales_orders.id", ondelete="CASCADE"), primary_key=True),
    Column("line_no", Integer, primary_key=True),
    Column("sku", String(64), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("amount", BigInteger, nullable=False),
)

order_ledgers = Table(
    "order_ledgers",
    metadata,
    Column("order_no", String(64), ForeignKey("sales_orders.order_no"), primary_key=True),
    Column("reserved", BigInteger, nullable=False),
    Column("refunded", BigInteger, nullable=False),
    Column("compensated", BigInteger, nullable=False),
    Column("version", Integer, nullable=False),
)

service_settings = Table(
    "service_settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", JsonDocument, nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_by", String(128), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

agent_group_members = Table(
    "agent_group_members",
    metadata,
    Column("group_key", String(64), primary_key=True),
    Column("user_id", String(128), ForeignKey("agents.user_id", ondelete="CASCADE"), primary_key=True),
    Index(None, "user_id"),
)

tasks = Table(
    "tasks",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("number", String(32), nullable=False, unique=True),
    Column("ticket_id", Uuid, ForeignKey("tickets.id"), nullable=False),
    Column("parent_id", Uuid, ForeignKey("tasks.id")),
    Column("title", String(200), nullable=False),
    Column("instructions", Text),
    Column("status", String(32), nullable=False),
    Column("assignee", String(128)),
    Column("group_key", String(64)),
    Column("business_line", String(64)),
    Column("due_at", UtcDateTime, nullable=False),
    Column("estimated_centihours", Integer),
    Column("started_at", UtcDateTime),
    Column("result", Text),
    Column("completed_at", UtcDateTime),
    Column("reported_centihours", Integer),
    Column("reported_at", UtcDateTime),
    Column("attachments", JsonDocument, nullable=False),
    Column("approved_centihours", Integer),
    Column("approved_by", String(128)),
    Column("approval_comment", Text),
    Column("archived_at", UtcDateTime),
    Column("outcome", String(16)),
    Column("cancel_reason", String(500)),
    Column("return_count", Integer, nullable=False),
    Column("due_soon_notified", Boolean, nullable=False),
    Column("overdue_notified", Boolean, nullable=False),
    Column("next_reminder_at", UtcDateTime),
    Column("created_by", String(128), nullable=False),
    *_audit_columns(),
    Index(None, "ticket_id", "id"),
    Index(None, "parent_id", "id"),
    Index(None, "assignee", "id"),
    Index(None, "status", "id"),
    Index(None, "due_at", "id"),
    Index(None, "next_reminder_at"),
    Index(None, "assignee", "completed_at"),
    Index(None, "assignee", "status", "id"),
    Index(None, "group_key", "status", "id"),
    Index(None, "status", "due_at", "id"),
    Index(None, "assignee", "status", "due_at", "id"),
    Index(None, "created_at", "id"),  # the tasks export's keyset pages
)

approvals = Table(
    "approvals",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("subject_kind", String(32), nullable=False),
    Column("subject_id", Uuid, nullable=False),
    Column("subject_ref", String(32), nullable=False),
    Column("title", String(200), nullable=False),
    Column("amount", BigInteger),
    Column("currency", String(3)),
    Column("facts", JsonDocument, nullable=False),
    Column("requested_by", String(128), nullable=False),
    Column("status", String(16), nullable=False),
    Column("current_level", Integer, nullable=False),
    Column("levels", JsonDocument, nullable=False),
    Column("decided_at", UtcDateTime),
    *_audit_columns(),
    Index(None, "subject_id", "id"),
    Index(None, "status", "id"),
    Index(None, "status", "subject_kind", "id"),
)

approval_approvers = Table(
    "approval_approvers",
    metadata,
    Column("approval_id", Uuid, ForeignKey("approvals.id", ondelete="CASCADE"), primary_key=True),
    Column("level", Integer, primary_key=True),
    Column("approver", String(160), primary_key=True),
    Column("decision", String(16)),
    Column("decided_by", String(128)),
    Column("comment", Text),
    Column("data", JsonDocument, nullable=False),
    Column("decided_at", UtcDateTime),
    Index(None, "approver", "decision", "approval_id"),
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("recipient", String(128), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("subject_type", String(32), nullable=False),
    Column("subject_id", Uuid, nullable=False),
    Column("subject_ref", String(32), nullable=False),
    Column("title", JsonDocument, nullable=False),
    Column("data", JsonDocument, nullable=False),
    Column("unread", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("read_at", UtcDateTime),
    Column("dedupe_key", String(200), unique=True),
    Index(None, "recipient", "unread", "id"),
)

webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("url", String(2048), nullable=False),
    Column("description", String(500)),
    Column("event_types", JsonDocument, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("secret", String(128), nullable=False),
    Column("previous_secret", String(128)),
    Column("previous_secret_until", UtcDateTime),
    Column("disabled_reason", String(200)),
    Column("created_by", String(128), nullable=False),
    *_audit_columns(),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("endpoint_id", Uuid, ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), nullable=False),
    Column("event_id", Uuid, nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("sequence", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime),
    Column("last_status_code", Integer),
    Column("last_error", String(500)),
    Column("delivered_at", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("endpoint_id", "event_id"),
    Index(None, "status", "next_attempt_at"),
    Index(None, "endpoint_id", "created_at"),
    Index(None, "endpoint_id", "status", "id"),
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("delivery_id", Uuid, ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("duration_ms", Integer, nullable=False),
    Column("status_code", Integer),
    Column("error", String(500)),
    Index(None, "delivery_id", "id"),
)

inbound_events = Table(
    "inbound_events",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("source", String(32), nullable=False),
    Column("webhook_id", String(128), nullable=False),
    Column("type", String(64), nullable=False),
    Column("payload", JsonDocument, nullable=False),
    Column("status", String(16), nullable=False),
    Column("detail", Text),
    Column("received_at", UtcDateTime, nullable=False),
    Column("processed_at", UtcDateTime),
    UniqueConstraint("source", "webhook_id"),
    Index(None, "status", "id"),
    Index(None, "status", "source", "id"),
    Index(None, "status", "type", "id"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("caller", String(200), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("method", String(8), nullable=False),
    Column("path", String(2048), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("response_status", Integer),
    Column("response_headers", JsonDocument),
    Column("response_body", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Index(None, "expires_at"),
)


business_calendars = Table(
    "business_calendars",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("key", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("time_zone", String(64), nullable=False),
    Column("weekly", JsonDocument, nullable=False),
    Column("overrides", JsonDocument, nullable=False),
    Column("valid_from", Date),
    Column("valid_to", Date),
    *_audit_columns(),
)


# No unique (subject, position): a reorder rewrites many positions row by row, and a unique constraint would be broken
# between two of those rows (SQLite has no deferrable constraints). The service keeps each subject's positions 1..n
# under the SLA policies' write lock, and check_policies refuses a duplicate before anything is written.
sla_policies = Table(
    "sla_policies",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("key", String(64), nullable=False, unique=True),
    Column("subject", String(32), nullable=False),
    Column("position", Integer, nullable=False),
    Column("name", String(200), nullable=False),
    Column("document", JsonDocument, nullable=False),
    *_audit_columns(),
    Index(None, "subject", "position"),
)


# Append-only: a clock's state is derived from its events (app/domain/sla_clock.py), never updated in place. Read a
# subject at a time, in id (= append) order.
sla_clock_events = Table(
    "sla_clock_events",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("subject_type", String(32), nullable=False),
    Column("subject_id", Uuid, nullable=False),
    Column("metric", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("target", JsonDocument),
    Column("warning", JsonDocument),
    Column("policy_key", String(64)),
    Index(None, "subject_id", "id"),
)

# One row per subject with clocks: when the timer scan must next look at it (null: nothing can fall due).
sla_timers = Table(
    "sla_timers",
    metadata,
    Column("subject_id", Uuid, primary_key=True),
    Column("subject_type", String(32), nullable=False),
    Column("due_at", UtcDateTime),
    Column("updated_at", UtcDateTime, nullable=False),
    Index(None, "subject_type", "due_at"),
)

# Requests to derive every open ticket's timer again after a policy or calendar change, with the walk's progress.
sla_rederivations = Table(
    "sla_rederivations",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("reason", String(200), nullable=False),
    Column("requested_at", UtcDateTime, nullable=False),
    Column("after_subject_id", Uuid),
    Column("done", Integer, nullable=False),
    Column("finished_at", UtcDateTime),
    Column("superseded_by", Uuid),
)

# 满意度调查: one row per invitation (a resolution's first survey, a low score's second), its answer and the
# complaint-escalation loop it started. The token is kept only as its SHA-256.
surveys = Table(
    "surveys",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("subject_type", String(16), nullable=False),
    Column("subject_id", Uuid, nullable=False),
    Column("resolved_at", UtcDateTime, nullable=False),
    Column("round", Integer, nullable=False),
    Column("parent_id", Uuid, ForeignKey("surveys.id"), unique=True),
    Column("number", String(32), nullable=False),
    Column("title", String(200)),
    Column("customer_no", String(64), nullable=False),
    Column("ticket_id", Uuid),
    Column("agent", String(128)),
    Column("group_key", String(64)),
    Column("sku", String(64)),
    Column("region", String(64)),
    Column("channel", String(16)),
    Column("business_line", String(64)),
    Column("status", String(16), nullable=False),
    Column("send_at", UtcDateTime, nullable=False),
    Column("skip_reason", String(64)),
    Column("token_digest", String(64), unique=True),
    Column("sent_at", UtcDateTime),
    Column("expires_at", UtcDateTime),
    Column("nps_asked", Boolean, nullable=False),
    Column("csat", Integer),
    Column("nps", Integer),
    Column("reasons", JsonDocument, nullable=False),
    Column("comment", Text),
    Column("answered_at", UtcDateTime),
    Column("edit_until", UtcDateTime),
    Column("low_score", Boolean, nullable=False),
    Column("escalated_at", UtcDateTime),
    Column("follow_up_task_id", Uuid, unique=True),
    Column("follow_up_done_at", UtcDateTime),
    *_audit_columns(),
    UniqueConstraint("subject_id", "resolved_at", "round"),
    # The send pass reads due invitations only.
    Index(
        "ix_surveys_scheduled_send_at",
        "send_at",
        postgresql_where=text("status = 'scheduled'"),
        sqlite_where=text("status = 'scheduled'"),
    ),
    Index(None, "customer_no", "sent_at"),
    # Staff list and figures: newest sent first, each filter leading an index of its own.
    Index(None, "sent_at", "id"),
    Index(None, "agent", "sent_at", "id"),
    Index(None, "group_key", "sent_at", "id"),
    Index(None, "sku", "sent_at", "id"),
    Index(None, "region", "sent_at", "id"),
    Index(None, "channel", "sent_at", "id"),
    Index(None, "answered_at", "id"),  # the survey-answers export's keyset pages
)

# 客诉激增: each series' learned baseline (app/domain/complaint_spikes.py SeriesState) and the spike announced for it,
# until that spike ends. `spike_id IS NOT NULL`: the few series every hour's fold must look at whatever their count.
complaint_series = Table(
    "complaint_series",
    metadata,
    Column("product", String(64), primary_key=True),
    Column("region", String(64), primary_key=True),
    Column("ticket_type", String(32), primary_key=True),
    # float8[] on PostgreSQL, read and written in binary: measured, JSON floats cost 1.5x to write and 3x to read.
    Column("ewma", JSON().with_variant(ARRAY(Float), "postgresql"), nullable=False),
    Column("hours_seen", Integer, nullable=False),
    Column("in_spike", Boolean, nullable=False),
    Column("spike_started_at", UtcDateTime),
    Column("last_hour", UtcDateTime),
    Column("calm_hours", Integer, nullable=False),
    Column("spike_id", Uuid),
    Column("updated_at", UtcDateTime, nullable=False),
    Index(
        "ix_complaint_series_open_spike_id",
        "spike_id",
        postgresql_where=text("spike_id IS NOT NULL"),
        sqlite_where=text("spike_id IS NOT NULL"),
    ),
)

# The spikes found, one per series and first hour; staff's list reads them newest first, each filter leading an
# index of its own.
complaint_spikes = Table(
    "complaint_spikes",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("product", String(64), nullable=False),
    Column("region", String(64), nullable=False),
    Column("ticket_type", String(32), nullable=False),
    Column("business_line", String(64)),
    Column("started_at", UtcDateTime, nullable=False),
    Column("count", Integer, nullable=False),
    Column("baseline", Float, nullable=False),
    Column("bound", Integer, nullable=False),
    Column("ended_at", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("product", "region", "ticket_type", "started_at"),
    Index(None, "started_at", "id"),
    Index(None, "product", "started_at", "id"),
    Index(None, "region", "started_at", "id"),
    Index(None, "ticket_type", "started_at", "id"),
    Index(
        "ix_complaint_spikes_open_started_at_id",
        "started_at",
        "id",
        postgresql_where=text("ended_at IS NULL"),
        sqlite_where=text("ended_at IS NULL"),
    ),
)


# 派单规则: ordered, the first whose conditions hold decides; the document holds conditions, strategy and skills.
dispatch_rules = Table(
    "dispatch_rules",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("key", String(64), nullable=False, unique=True),
    Column("position", Integer, nullable=False),
    Column("name", String(200), nullable=False),
    Column("document", JsonDocument, nullable=False),
    *_audit_columns(),
    Index(None, "position"),
)

# Every dispatch decision, read a subject at a time, newest first: the rule, the candidates and why, the winner.
dispatch_decisions = Table(
    "dispatch_decisions",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("subject_type", String(32), nullable=False),
    Column("subject_id", Uuid, nullable=False),
    Column("trigger", String(32), nullable=False),
    Column("rule_key", String(64)),
    Column("strategy", String(32), nullable=False),
    Column("group_key", String(64)),
    Column("winner", String(128)),
    Column("considered", JsonDocument, nullable=False),
    Column("steps", JsonDocument, nullable=False),
    Column("pool_reason", Text),
    Column("dry_run", Boolean, nullable=False),
    Column("decided_at", UtcDateTime, nullable=False),
    Index(None, "subject_id", "decided_at"),
)

# The backlog (待派单): work dispatch could not place yet, served highest priority then oldest when capacity frees.
# A row leaves when the work is assigned by any path; the backlog read joins the ticket and skips stale rows.
dispatch_backlog = Table(
    "dispatch_backlog",
    metadata,
    Column("ticket_id", Uuid, ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True),
    Column("group_key", String(64), nullable=False),
    Column("priority_rank", Integer, nullable=False),
    Column("waiting_since", UtcDateTime, nullable=False),
    Index(None, "group_key", "priority_rank", "waiting_since"),
)

# 审核队列: ordered, the first whose conditions hold takes an order entering review; the document holds the conditions
# and the reviewers who claim from it.
review_queues = Table(
    "review_queues",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("key", String(64), nullable=False, unique=True),
    Column("position", Integer, nullable=False),
    Column("name", String(200), nullable=False),
    Column("document", JsonDocument, nullable=False),
    *_audit_columns(),
    Index(None, "position", "key"),
)

# The review queue an after-sales order was routed to (null: the general pool). Its pool is read oldest first and
# counted from one partial index (created_at in it, so that the count and the oldest need no row); a reviewer's own
# claimed orders are read newest activity first from another.
after_sales_orders.append_column(Column("review_queue", String(64)))
_UNCLAIMED_UNDER_REVIEW = "status = 'under_review' AND assignee IS NULL"
Index(
    "ix_after_sales_orders_review_pool",
    after_sales_orders.c.review_queue,
    after_sales_orders.c.id,
    after_sales_orders.c.created_at,
    postgresql_where=text(_UNCLAIMED_UNDER_REVIEW),
    sqlite_where=text(_UNCLAIMED_UNDER_REVIEW),
)
Index(
    "ix_after_sales_orders_held_reviews",
    after_sales_orders.c.assignee,
    after_sales_orders.c.updated_at,
    after_sales_orders.c.id,
    postgresql_where=text("status = 'under_review'"),
    sqlite_where=text("status = 'under_review'"),
)

# 证据附件: one row per upload; the bytes live in the blob store under `sha256` (one blob for the same bytes however
# often they are uploaded, so a blob goes only when no row names it). The scan queue reads pending rows by when their
# next try is due; a refused or removed upload asks whether another row still names its blob.
_PENDING_SCAN = "scan_status = 'pending'"
attachments = Table(
    "attachments",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("sha256", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("file_name", String(255), nullable=False),
    Column("extension", String(8), nullable=False),
    Column("content_type", String(127), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("purpose", String(16), nullable=False),
    Column("scan_status", String(16), nullable=False),
    Column("scan_detail", Text),
    Column("scan_attempts", Integer, nullable=False),
    Column("scan_after", UtcDateTime),
    Column("scanned_at", UtcDateTime),
    Column("uploaded_by", String(128), nullable=False),
    Column("uploaded_by_customer", Boolean, nullable=False),
    Column("customer_no", String(64)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("attached_at", UtcDateTime),
    Column("legal_hold", Boolean, nullable=False, server_default=false()),
    Column("deleted_at", UtcDateTime),
    Index(None, "sha256"),
    Index(
        "ix_attachments_pending_scan_after",
        "scan_after",
        postgresql_where=text(_PENDING_SCAN),
        sqlite_where=text(_PENDING_SCAN),
    ),
)

# Where each stored file is attached: one row per time it was linked to a record (the comment or action that did it,
# when there is one), public when the record's customer may read it there. Read by subject (a record's count, the
# orders a scanned photo is on) and by attachment (whether a customer reaches it, whether its records have finished).
attachment_links = Table(
    "attachment_links",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("attachment_id", Uuid, ForeignKey("attachments.id"), nullable=False),
    Column("subject_type", String(16), nullable=False),
    Column("subject_id", Uuid, nullable=False),
    Column("timeline_entry_id", Uuid),
    Column("public", Boolean, nullable=False),
    Column("linked_by", String(128), nullable=False),
    Column("linked_at", UtcDateTime, nullable=False),
    Index(None, "attachment_id"),
    Index(None, "subject_type", "subject_id"),
)
_UNATTACHED = "attached_at IS NULL AND deleted_at IS NULL"
_ATTACHED = "attached_at IS NOT NULL AND deleted_at IS NULL"
# The retention job's two queues: uploads never attached, oldest first, and attached files by when they were attached.
Index(
    "ix_attachments_unattached_created_at",
    attachments.c.created_at,
    postgresql_where=text(_UNATTACHED),
    sqlite_where=text(_UNATTACHED),
)
Index(
    "ix_attachments_attached_at",
    attachments.c.attached_at,
    postgresql_where=text(_ATTACHED),
    sqlite_where=text(_ATTACHED),
)

# 知识库: articles, every version of their content, and the search rows of live articles (folded text and our own
# tokens; SQLite indexes them in the FTS5 table kb_search_fts, PostgreSQL in a GIN index of their tsvector, both
# created by the migration and named in `SEARCH_INDEX_OBJECTS`).
kb_articles = Table(
    "kb_articles",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("status", String(16), nullable=False),
    Column("language", String(8), nullable=False),
    Column("business_line", String(64)),
    Column("translation_of", Uuid, ForeignKey("kb_articles.id")),
    Column("created_by", String(128), nullable=False),
    Column("current_version", Integer, nullable=False),
    Column("live_version", Integer),
    Column("approved_by", String(128)),
    Column("published_at", UtcDateTime),
    Column("source_ticket_id", Uuid),
    *_audit_columns(),
    # Tallies kept by their own atomic updates, never written back from an entity (app/persistence/kb_articles.py).
    Column("views", BigInteger, nullable=False, server_default="0"),
    Column("helpful_votes", BigInteger, nullable=False, server_default="0"),
    Column("unhelpful_votes", BigInteger, nullable=False, server_default="0"),
    Index(None, "created_at", "id"),
    Index(None, "status", "created_at", "id"),
    Index(None, "views", "id"),
)
kb_article_versions = Table(
    "kb_article_versions",
    metadata,
    Column("article_id", Uuid, ForeignKey("kb_articles.id"), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("title", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("category", String(64)),
    Column("tags", JsonDocument, nullable=False),
    Column("product_lines", JsonDocument, nullable=False),
    Column("visibility", String(16), nullable=False),
    Column("author", String(128), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)
kb_search = Table(
    "kb_search",
    metadata,
    Column("doc", Integer, primary_key=True, autoincrement=True),
    Column("article_id", Uuid, ForeignKey("kb_articles.id"), nullable=False, unique=True),
    Column("language", String(8), nullable=False),
    Column("category", String(64)),
    Column("visibility", String(16), nullable=False),
    Column("business_line", String(64)),
    Column("product_lines", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("tags", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("tokens", Text, nullable=False),
    Column("title_tokens", Text, nullable=False, server_default=""),
    Column("helpful", Integer, nullable=False),
    Column("published_at", UtcDateTime, nullable=False),
)
# 同义词: groups of equivalent query terms (folded by the search tokenizer); the term table's key keeps a term in one
# group at most, whatever writers race.
kb_synonym_groups = Table(
    "kb_synonym_groups",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("terms", JsonDocument, nullable=False),
    *_audit_columns(),
    Index(None, "created_at", "id"),
)
kb_synonym_terms = Table(
    "kb_synonym_terms",
    metadata,
    Column("term", String(32), primary_key=True),
    Column("group_id", Uuid, ForeignKey("kb_synonym_groups.id"), nullable=False),
    Index(None, "group_id"),
)
# Searches that found nothing: one row per folded query and business line ('' for none), counted by upsert.
kb_search_misses = Table(
    "kb_search_misses",
    metadata,
    Column("business_line", String(64), primary_key=True),
    Column("query", String(200), primary_key=True),
    Column("count", BigInteger, nullable=False),
    Column("first_seen", UtcDateTime, nullable=False),
    Column("last_seen", UtcDateTime, nullable=False),
    Index(None, "last_seen"),
)
# Tickets an article solved (who linked it, when), read both ways in link order; one vote per reader and article.
kb_article_tickets = Table(
    "kb_article_tickets",
    metadata,
    Column("article_id", Uuid, ForeignKey("kb_articles.id"), primary_key=True),
    Column("ticket_id", Uuid, ForeignKey("tickets.id"), primary_key=True),
    Column("linked_by", String(128), nullable=False),
    Column("linked_at", UtcDateTime, nullable=False),
    Index(None, "article_id", "linked_at", "ticket_id"),
    Index(None, "ticket_id", "linked_at", "article_id"),
)
kb_article_votes = Table(
    "kb_article_votes",
    metadata,
    Column("article_id", Uuid, ForeignKey("kb_articles.id"), primary_key=True),
    Column("voter", String(160), primary_key=True),
    Column("helpful", Boolean, nullable=False),
    Column("voted_at", UtcDateTime, nullable=False),
)
SEARCH_INDEX_OBJECTS = frozenset(
    {
        "kb_search_fts",
        "kb_search_fts_data",
        "kb_search_fts_idx",
        "kb_search_fts_docsize",
        "kb_search_fts_config",
        "kb_title_fts",
        "kb_title_fts_data",
        "kb_title_fts_idx",
        "kb_title_fts_docsize",
        "kb_title_fts_config",
        "ix_kb_search_lexemes",
        "ix_kb_search_title_lexemes",
    }
)
"""The search index objects the migration creates beside the tables above, one database's kind each (SQLite's FTS5
table and its shadow tables, PostgreSQL's GIN index of an expression): no table definition can declare them."""

# Reports: ticket metrics per UTC hour, measure, histogram bucket (0 for counts) and every dimension ('' for none, so
# that the key is unique), added to per event; and the events already counted, so that none counts twice.
ROLLUP_DIMENSIONS = ("channel", "type", "category", "priority", "region", "product_line", "group_key", "business_line")
ticket_rollups = Table(
    "ticket_rollups",
    metadata,
    Column("hour", UtcDateTime, primary_key=True),
    Column("measure", String(24), primary_key=True),
    Column("bucket", Integer, primary_key=True),
    *(Column(name, String(64), primary_key=True) for name in ROLLUP_DIMENSIONS),
    Column("count", BigInteger, nullable=False),
)
ticket_rollup_events = Table(
    "ticket_rollup_events",
    metadata,
    Column("event_id", Uuid, primary_key=True),
    Column("occurred_at", UtcDateTime, nullable=False),
)
