"""`python -O` strips `assert`: the service's own checks must be real errors (app/domain/invariants.py)."""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"


def test_the_service_code_holds_no_assert_statements():
    found = [
        f"{path.relative_to(APP.parent)}:{node.lineno}"
        for path in sorted(APP.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Assert)
    ]

    assert found == [], "raise a real error instead (app/domain/invariants.py: present, of_type): " + ", ".join(found)
