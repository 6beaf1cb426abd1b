"""Sets of roles are defined once, in app/domain/principal.py, each named for what it means: a module that spells out
its own (`STAFF`, `HANDLERS`, …) drifts from the others, and one name ends up meaning different sets."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

from app.domain import principal
from app.domain.principal import Role

ROOT = Path(__file__).resolve().parents[2]
HOME = "app/domain/principal.py"


def _named_sets() -> dict[frozenset[Role], list[str]]:
    """The role sets principal.py defines, by their members."""
    found: dict[frozenset[Role], list[str]] = {}
    for name, value in vars(principal).items():
        if name.isupper() and isinstance(value, frozenset) and value and all(isinstance(r, Role) for r in value):
            found.setdefault(value, []).append(name)
    return found


def _roles_in(node: ast.AST) -> list[str]:
    return [
        n.attr
        for n in ast.walk(node)
        if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "Role"
    ]


def _is_role_collection(node: ast.expr) -> bool:
    """`frozenset({Role.A, …})`, `{Role.A, …}`, `(Role.A, …)`, or a union of such with other sets."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in {"frozenset", "set"}:
        return len(node.args) == 1 and _is_role_collection(node.args[0])
    if isinstance(node, ast.Set | ast.Tuple | ast.List):
        return bool(node.elts) and len(_roles_in(node)) == len(node.elts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _is_role_collection(node.left) or _is_role_collection(node.right)
    return False


def _spelled_out() -> list[str]:
    named = _named_sets()
    found = []
    for path in sorted((ROOT / "app").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative == HOME:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        module = relative.removesuffix(".py").replace("/", ".")
        top_level = set()
        for stmt in tree.body:
            target, value = (
                (stmt.targets[0], stmt.value)
                if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                else (stmt.target, stmt.value)
                if isinstance(stmt, ast.AnnAssign) and stmt.value is not None
                else (None, None)
            )
            if isinstance(target, ast.Name) and value is not None and _is_role_collection(value):
                top_level.add(id(value))
                members = frozenset(Role(r) for r in getattr(importlib.import_module(module), target.id))
                found.append(_advice(f"{relative}:{stmt.lineno} {target.id}", members, named))
        for node in ast.walk(tree):
            is_literal = isinstance(node, ast.Call) and _is_role_collection(node)
            if is_literal and id(node) not in top_level and len(_roles_in(node)) > 1:
                members = frozenset(Role[r] for r in _roles_in(node))
                found.append(_advice(f"{relative}:{node.lineno} (inline)", members, named))
    return found


def _advice(where: str, members: frozenset[Role], named: dict[frozenset[Role], list[str]]) -> str:
    spelled = "{" + ", ".join(sorted(r.value for r in members)) + "}"
    names = named.get(members)
    if names:
        return f"{where} = {spelled}: use {' or '.join(names)} from {HOME} (the one whose docstring says this meaning)"
    return f"{where} = {spelled}: define it once in {HOME}, named for what it means, and import it here"


def test_role_sets_are_defined_only_in_the_principal_module():
    found = _spelled_out()
    assert not found, "Role sets spelled out outside " + HOME + ":\n" + "\n".join(found)
