"""What an HTTP scenario sends, declared as data: wrk's Lua script and the Python client are both made from it, so
either generator sends the same requests."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

import httpx

from bench.load import Send

NUMBER = "{n}"
"""In a path or the body (its first occurrence in each): replaced by a number no other request of the same run gets
(the create-by-PUT paths, a customer per request). wrk numbers `<thread><sent:09d>`, the Python client by index."""


def run_numbers(requests: int, concurrency: int, threads: int) -> list[str]:
    """Every number either generator may give a request of one run of at most `requests`: wrk's
    `<thread><sent:09d>` for each of its `threads`, the Python client's index (a run sends at most its budget plus
    one request in flight per connection). For the rows a numbered scenario must find (customers, survey links)."""
    most = requests + concurrency + 1
    numbers = [str(index) for index in range(most)]
    return numbers + [f"{thread}{sent:09d}" for thread in range(1, threads + 1) for sent in range(1, most + 1)]


@dataclass(frozen=True, slots=True)
class Traffic:
    """`method` on each of `paths` in turn, with the same headers and body every time (but NUMBER's)."""

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

    body = traffic.body
    numbered_body = body is not None and NUMBER.encode() in body

    async def send(index: int) -> httpx.Response:
        path = paths[index % len(paths)].replace(NUMBER, str(index), 1)
        content = body.replace(NUMBER.encode(), str(index).encode(), 1) if numbered_body and body else body
        return await client.request(traffic.method, f"{base_url}{path}", content=content, headers=headers)

    return send
