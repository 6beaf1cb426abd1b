"""Reading a refusal in a test: its status, its code and the fields it names."""

from __future__ import annotations

import httpx


def problem_fields(response: httpx.Response, status: int, code: str) -> set[str]:
    """The fields a problem names (pointer, query parameter or header), after checking its status and code."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == code, problem
    return {e.get("pointer") or e.get("parameter") or e.get("header") for e in problem.get("errors", [])}
