"""agent open work: each agent's held tickets (`open_items`) and their weighted load (`open_load`), kept on the agent's
row by triggers on tickets, so that a dispatch decision reads its candidates' work in O(agents) rather than counting
every ticket they hold, and checks a limit on the row it locks

The weights are app.domain.dispatch's PRIORITY_WEIGHTS × TYPE_WEIGHTS and the held states app.domain.tickets'
HELD_STATES as of this revision; a change to either comes with a migration that recreates the triggers (a test
compares the counters with a recount). Only registered agents hold tickets (assigning anyone else is refused), so an
agent's row exists before their first ticket. SQLite's batch mode recreates a table and drops its triggers: a later
migration that alters `tickets` that way creates them again.

Revision ID: 0024
Revises: 0023
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

_HELD = "('assigned', 'in_progress', 'waiting_on_customer')"


def _weight(row: str) -> str:
    return (
        f"(CASE {row}.priority WHEN 'low' THEN 1 WHEN 'high' THEN 3 WHEN 'urgent' THEN 4 ELSE 2 END"
        f" * CASE WHEN {row}.type IN ('complaint', 'repair', 'installation') THEN 2 ELSE 1 END)"
    )


def _held(row: str) -> str:
    return f"({row}.assignee IS NOT NULL AND {row}.status IN {_HELD})"


def _add(row: str, sign: str) -> str:
    """The statement that counts `row`'s ticket in (+) or out (-) of its assignee's work."""
    return (
        f"UPDATE agents SET open_items = open_items {sign} 1, open_load = open_load {sign} {_weight(row)}"
        f" WHERE user_id = {row}.assignee"
    )


_RECOUNT = f"""UPDATE agents SET
    open_items = (SELECT count(*) FROM tickets t WHERE t.assignee = agents.user_id AND t.status IN {_HELD}),
    open_load = coalesce((SELECT sum({_weight("t")}) FROM tickets t
        WHERE t.assignee = agents.user_id AND t.status IN {_HELD}), 0)"""
_CHANGED = (
    "OLD.assignee IS DISTINCT FROM NEW.assignee OR OLD.status IS DISTINCT FROM NEW.status"
    " OR OLD.priority IS DISTINCT FROM NEW.priority OR OLD.type IS DISTINCT FROM NEW.type"
)

_POSTGRES = (
    f"""CREATE FUNCTION count_agent_open_work() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' AND {_held("OLD")} AND {_held("NEW")} AND OLD.assignee = NEW.assignee
            AND {_weight("OLD")} = {_weight("NEW")} THEN
            RETURN NULL;  -- started, waiting on the customer, back: the same work, and the agent's row is not locked
        END IF;
        IF TG_OP <> 'INSERT' AND {_held("OLD")} THEN
            {_add("OLD", "-")};
        END IF;
        IF TG_OP <> 'DELETE' AND {_held("NEW")} THEN
            {_add("NEW", "+")};
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER tickets_open_work_in AFTER INSERT ON tickets FOR EACH ROW
    WHEN (NEW.assignee IS NOT NULL) EXECUTE FUNCTION count_agent_open_work()""",
    f"""CREATE TRIGGER tickets_open_work_change AFTER UPDATE OF assignee, status, priority, type ON tickets
    FOR EACH ROW WHEN ({_CHANGED}) EXECUTE FUNCTION count_agent_open_work()""",
    """CREATE TRIGGER tickets_open_work_out AFTER DELETE ON tickets FOR EACH ROW
    WHEN (OLD.assignee IS NOT NULL) EXECUTE FUNCTION count_agent_open_work()""",
)

_SQLITE = (
    f"""CREATE TRIGGER tickets_open_work_in AFTER INSERT ON tickets FOR EACH ROW WHEN {_held("NEW")}
    BEGIN {_add("NEW", "+")}; END""",
    f"""CREATE TRIGGER tickets_open_work_change AFTER UPDATE OF assignee, status, priority, type ON tickets
    FOR EACH ROW WHEN {_CHANGED.replace("IS DISTINCT FROM", "IS NOT")}
    BEGIN
        {_add("OLD", "-")} AND {_held("OLD")};
        {_add("NEW", "+")} AND {_held("NEW")};
    END""",
    f"""CREATE TRIGGER tickets_open_work_out AFTER DELETE ON tickets FOR EACH ROW WHEN {_held("OLD")}
    BEGIN {_add("OLD", "-")}; END""",
)


def upgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.add_column(sa.Column("open_items", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("open_load", sa.Integer(), nullable=False, server_default="0"))
    op.execute(_RECOUNT)
    for statement in _POSTGRES if op.get_bind().dialect.name == "postgresql" else _SQLITE:
        op.execute(statement)


def downgrade() -> None:
    on = " ON tickets" if op.get_bind().dialect.name == "postgresql" else ""
    for trigger in ("tickets_open_work_in", "tickets_open_work_change", "tickets_open_work_out"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}{on}")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS count_agent_open_work()")
    with op.batch_alter_table("agents") as batch:
        batch.drop_column("open_load")
        batch.drop_column("open_items")
