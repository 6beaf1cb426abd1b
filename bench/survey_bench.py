"""Survey answer throughput: customers answering their public links (POST /v1/surveys/{token}, no login), each link
once, as the SMS/IM invitations bring them in. The sent surveys are bulk-loaded with known tokens (stored, as the
service stores them, only as their SHA-256); the warm-up and the run answer links of their own, so no answer is a
second one (409). The answers are satisfied (CSAT 5): a low score's escalation loop is a ticket action of its own."""

from __future__ import annotations

import json
from datetime import timedelta

import asyncpg

from app.domain.surveys import token_digest
from bench.harness import Harness
from bench.load import Result
from bench.ticket_rows import plain_dsn
from bench.traffic import NUMBER, Traffic, run_numbers
from bench.wrk import MAX_THREADS

ANSWER = json.dumps({"csat": 5, "comment": "师傅很专业，问题解决了"}).encode()
_SURVEYS = """INSERT INTO surveys (id, subject_type, subject_id, resolved_at, round, number, title, customer_no,
        status, send_at, token_digest, sent_at, expires_at, nps_asked, reasons, low_score, version, created_at,
        updated_at)
    SELECT gen_random_uuid(), 'ticket', gen_random_uuid(), $1, 1, 'T-2026-000001', '净化器异响', 'BS-1', 'sent', $1,
        digest, $1, $2, false, '[]', false, 1, $1, $1
    FROM unnest($3::text[]) AS digest"""


async def measure(h: Harness) -> Result:
    requests = max(h.budget.requests, h.warmup.requests)
    links = {
        phase: [f"{phase}-{n}" for n in run_numbers(requests, h.options.concurrency, MAX_THREADS)]
        for phase in ("warm", "run")
    }
    conn = await asyncpg.connect(plain_dsn(h.database_url))
    try:
        now = await conn.fetchval("SELECT now()")
        digests = [token_digest(token) for tokens in links.values() for token in tokens]
        await conn.execute(_SURVEYS, now, now + timedelta(days=7), digests)
        await conn.execute("ANALYZE surveys")
    finally:
        await conn.close()
    headers = {"content-type": "application/json", "accept-language": "zh-CN"}
    warm, run = (Traffic("POST", (f"/v1/surveys/{phase}-{NUMBER}",), headers, ANSWER) for phase in ("warm", "run"))
    return await h.measure_traffic("answer a survey link", h.service, h.service_url, warm, run)


def lines(result: Result) -> list[str]:
    return [
        f"survey answers: {result.rate:.1f}/s, p50 {result.percentile_ms(50):.1f} ms, "
        f"p99 {result.percentile_ms(99):.1f} ms, "
        f"server CPU {result.cpu_ms_per_request:.2f} ms per answer (public link, token looked up by its digest, "
        "answer and survey.answered event in one transaction)"
    ]
