"""What an HTTP scenario sends, declared as data: wrk's Lua script and the Python client are both made from it, so
either generator sends the same requests."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

import httpx

from bench.load import Send

NUMBER = "{n}"
"""In a path: replaced by a number no other request of the same traffic gets (the create-by-PUT paths)."""


@dataclass(frozen=True, slots=True)
class Traffic:
    """`method` on each of `paths` in turn, with the same headers and body every time."""

    method: str
    paths: tuple[str, ...]
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | None = None

    def __post_init__(self) -> None:
        if not self.paths:
            raise RuntimeError(f"{self.method} traffic without a path")


def path_with_query(path: str, params: Mapping[str, str]) -> str:
    return f"{path}?{urlencode(params)}" if params else path


def python_send(client: httpx.AsyncClient, base_url: str, traffic: Traffic) -> Send:
    """The traffic for the Python client: request `index` takes path `index` (round-robin) and number `index`."""
    paths = traffic.paths
    headers = dict(traffic.headers)

    async def send(index: int) -> httpx.Response:
        path = paths[index % len(paths)].replace(NUMBER, str(index))
        return await client.request(traffic.method, f"{base_url}{path}", content=traffic.body, headers=headers)

    return send
