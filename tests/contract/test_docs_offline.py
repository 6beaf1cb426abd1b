"""/docs works without internet: Swagger UI's page and assets come from the service itself, not from a CDN."""

from __future__ import annotations

import re

EXPECTED_TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png"}


async def test_the_docs_page_loads_its_assets_from_the_service(client):
    page = await client.get("/docs")

    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assets = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]""", page.text)
    assert {asset.rsplit(".", 1)[-1] for asset in assets} >= {"js", "css"}
    assert [asset for asset in assets if not asset.startswith("/docs/static/")] == []
    assert "'/openapi.json'" in page.text or '"/openapi.json"' in page.text
    for asset in assets:
        answer = await client.get(asset)
        kind = EXPECTED_TYPES[asset[asset.rindex(".") :]]
        assert (answer.status_code, kind in answer.headers["content-type"]) == (200, True), asset
        assert len(answer.content) > 1000, asset
