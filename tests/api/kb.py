"""Knowledge base helpers for tests: write an article and take it through review to publication."""

from __future__ import annotations

from typing import Any

import httpx

from app.domain.principal import Role

ARTICLES = "/v1/kb/articles"


def article_body(**overrides: Any) -> dict[str, Any]:
    return {
        "title": "退款多久到账？",
        "body": "退款审核通过后原路退回。\n\n1. 微信、支付宝：1-3 个工作日\n2. 银行卡：3-7 个工作日",
        "category": "退款",
        "tags": ["退款", "到账时间"],
        "product_lines": ["air-purifier"],
        "visibility": "public",
        **overrides,
    }


async def act(
    client: httpx.AsyncClient, headers: dict[str, str], article: dict[str, Any], action: str, **body: Any
) -> dict[str, Any]:
    response = await client.post(f"{ARTICLES}/{article['id']}/actions/{action}", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def publish(client: httpx.AsyncClient, auth: Any, **overrides: Any) -> dict[str, Any]:
    """An article written by an agent, submitted and approved by a manager."""
    agent, manager = auth(Role.AGENT), auth(Role.MANAGER)
    created = await client.post(ARTICLES, json=article_body(**overrides), headers=agent)
    assert created.status_code == 201, created.text
    article = await act(client, agent, created.json(), "submit")
    return await act(client, manager, article, "approve")
