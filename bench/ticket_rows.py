"""Bulk ticket rows for the list benchmarks: one `INSERT … SELECT generate_series` per chunk, not an API call per row.

The rows look like a few years of real intake: UUIDv7 ids in creation order, numbers from the service's own
sequence, a realistic status mix, 200 agents and 10,000 customers (created the same way), so that list
filters meet the selectivity they would meet in production.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from sqlalchemy.engine import make_url

CUSTOMERS = 10_000
AGENTS = 200
CHUNK = 100_000
SPACING_SECONDS = 60  # one ticket a minute: a million tickets span about two years
CREATED_BY = "bench-loader"

log = logging.getLogger(__name__)

_CUSTOMERS = """
INSERT INTO customers (id, customer_no, name, level, contact_channels, version, created_at, updated_at)
SELECT gen_random_uuid(), 'C-B' || lpad(g::text, 6, '0'), 'Bench customer ' || g, 'normal', '[]', 1, now(), now()
FROM generate_series(1, $1::int) AS g
"""

# r1…r4: pseudo-random but repeatable per row, so status, customer and agent are independent of each other.
# lpad truncates, hence the greatest(): numbers past 999,999 keep all their digits, as the service's do.
_TICKETS = """
INSERT INTO tickets (
    id, number, customer_no, channel, type, priority, status, title, description, tags, warranty_status,
    contact, attachments, assignee, escalation_level, urge_count, resolution, resolved_at, finished_at,
    created_by, version, created_at, updated_at)
SELECT
    (lpad(to_hex((extract(epoch FROM t.at) * 1000)::bigint), 12, '0') || '7' || substr(t.h, 1, 3) || '8'
        || substr(t.h, 4, 15))::uuid,
    'T-' || extract(year FROM t.at)::int || '-' || lpad(t.seq, greatest(6, length(t.seq)), '0'),
    'C-B' || lpad((1 + t.r1 % $4::int)::text, 6, '0'),
    (ARRAY['phone_400', 'app', 'im_bot', 'web', 'wechat', 'marketplace'])[1 + t.r2 % 6],
    (ARRAY['repair', 'complaint', 'installation', 'consultation'])[1 + t.r2 % 4],
    (ARRAY['low', 'normal', 'normal', 'normal', 'high', 'urgent'])[1 + t.r3 % 6],
    t.status,
    'Purifier makes a loud noise #' || t.g,
    'Loud noise from the fan since two days after switching on; the customer asks for a repair visit.',
    '[]', 'unknown', '{}', '[]',
    CASE WHEN t.status <> 'new' THEN 'agent-' || lpad((1 + t.r3 % $5::int)::text, 3, '0') END,
    0, 0,
    CASE WHEN t.status IN ('pending_follow_up', 'completed') THEN
        '{"solution": "Replaced the fan", "spare_parts": [], "labour_cost": 5000, "material_cost": 12000,
          "currency": "CNY"}'::jsonb END,
    CASE WHEN t.status IN ('pending_follow_up', 'completed') THEN t.at + interval '1 day' END,
    CASE WHEN t.status IN ('completed', 'closed', 'cancelled') THEN t.at + interval '2 days' END,
    $6, 1, t.at, t.at + make_interval(hours => t.r2 % 72)
FROM (
    SELECT s.*,
        (ARRAY['new', 'new', 'assigned', 'assigned', 'in_progress', 'in_progress', 'in_progress',
               'waiting_on_customer', 'pending_follow_up', 'pending_follow_up', 'completed', 'completed',
               'completed', 'completed', 'completed', 'completed', 'completed', 'completed', 'closed',
               'cancelled'])[1 + s.r4 % 20] AS status
    FROM (
        SELECT g, h, nextval('ticket_number_seq')::text AS seq,
            $3::timestamptz + make_interval(secs => g * $7::int) AS at,
            ('x' || substr(h, 19, 7))::bit(28)::int AS r1, ('x' || substr(h, 26, 4))::bit(16)::int AS r2,
            ('x' || substr(h, 30, 3))::bit(12)::int AS r3, ('x' || substr(h, 16, 3))::bit(12)::int AS r4
        FROM generate_series($1::int, $2::int) AS g, LATERAL md5(g::text) AS h
    ) AS s
) AS t
"""


def plain_dsn(database_url: str) -> str:
    """asyncpg's DSN for the SQLAlchemy URL the servers use."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


async def load_customers(conn: asyncpg.Connection) -> None:
    await conn.execute(_CUSTOMERS, CUSTOMERS)


async def grow_to(conn: asyncpg.Connection, loaded: int, target: int, total: int) -> None:
    """Add rows `loaded + 1 … target` of a table planned to hold `total`, then ANALYZE so plans see the new size.

    Row g is created `total - g` minutes ago, so every bulk row is older than the tickets the API creates."""
    start = await conn.fetchval("SELECT now() - make_interval(secs => $1::int)", total * SPACING_SECONDS)
    for first in range(loaded + 1, target + 1, CHUNK):
        last = min(first + CHUNK - 1, target)
        await conn.execute(_TICKETS, first, last, start, CUSTOMERS, AGENTS, CREATED_BY, SPACING_SECONDS)
        log.info("loaded %s of %s tickets", f"{last:,}", f"{target:,}")
    await conn.execute("ANALYZE tickets")


async def key_at_depth(conn: asyncpg.Connection, depth: int) -> UUID:
    """The id `depth` rows down the newest-first list: the cursor a client holds after paging that far."""
    value: Any = await conn.fetchval("SELECT id FROM tickets ORDER BY id DESC OFFSET $1 LIMIT 1", depth)
    return UUID(str(value))


async def created_span(conn: asyncpg.Connection) -> tuple[datetime, datetime]:
    """When the oldest and the newest bulk rows were created (their ids are in creation order)."""
    oldest = await conn.fetchval("SELECT created_at FROM tickets ORDER BY id LIMIT 1")
    newest = await conn.fetchval("SELECT created_at FROM tickets ORDER BY id DESC LIMIT 1")
    return oldest, newest
