"""Votes racing on PostgreSQL: tallies stay exact when many voters vote at once and when one voter's requests race
(the article's row lock orders them; without it a racing voter counts twice)."""

from __future__ import annotations

import asyncio

import pytest

from app.domain.principal import Role
from app.persistence.kb_articles import SqlArticleRepository
from tests.api.kb import ARTICLES, publish

pytestmark = pytest.mark.postgres_only


@pytest.fixture
def overlap(monkeypatch):
    """How many vote requests at most were inside the article's read at once (waiting for its row lock, or holding
    it a moment longer, so that requests without the lock would interleave)."""
    seen = {"inside": 0, "most": 0}
    get = SqlArticleRepository.get

    async def counted(self, article_id, *, for_update=False):
        if not for_update:
            return await get(self, article_id)
        seen["inside"] += 1
        seen["most"] = max(seen["most"], seen["inside"])
        try:
            found = await get(self, article_id, for_update=True)
            await asyncio.sleep(0.02)  # hold the lock while the others arrive: without it they would all read on
            return found
        finally:
            seen["inside"] -= 1

    monkeypatch.setattr(SqlArticleRepository, "get", counted)
    return seen


async def _votes(client, auth, article):
    seen = (await client.get(f"{ARTICLES}/{article['id']}", headers=auth(Role.AGENT))).json()
    return seen["helpful_votes"], seen["unhelpful_votes"]


async def test_many_voters_at_once_are_all_counted(client, auth, overlap):
    article = await publish(client, auth)
    voters = [auth(Role.CUSTOMER, sub=f"c{n}", customer_no=f"C-{n}") for n in range(12)]

    answers = await asyncio.gather(
        *(
            client.put(f"{ARTICLES}/{article['id']}/vote", json={"helpful": n % 3 != 0}, headers=headers)
            for n, headers in enumerate(voters)
        )
    )

    assert [a.status_code for a in answers] == [200] * 12, [a.text for a in answers]
    assert overlap["most"] >= 2, "the votes did not overlap"
    assert await _votes(client, auth, article) == (8, 4)


async def test_one_voter_racing_themself_counts_once(client, auth, overlap):
    article = await publish(client, auth)
    customer = auth(Role.CUSTOMER)

    answers = await asyncio.gather(
        *(client.put(f"{ARTICLES}/{article['id']}/vote", json={"helpful": True}, headers=customer) for _ in range(8))
    )

    assert [a.status_code for a in answers] == [200] * 8, [a.text for a in answers]
    assert overlap["most"] >= 2, "the votes did not overlap"
    assert await _votes(client, auth, article) == (1, 0)
