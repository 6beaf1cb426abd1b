"""The problem-code catalogue (app/domain/error_codes.py) is the single list of codes the service answers with: these
tests read every place in app/ that produces a code and fail, saying what to change where, when the two part ways."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import app
from app.domain.error_codes import BY_CODE, PROBLEM_CODES, README_END, README_START, with_readme_table
from app.domain.errors import DomainError
from app.web.problems import domain_error_response

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app"
CATALOGUE = "app/domain/error_codes.py"
REFRESH = "`.venv/bin/python -m app.domain.error_codes README.md`"
CODE_SHAPE = re.compile(r"^[a-z][a-z0-9_]*$")
"""What a code looks like, to tell a `status → code` table or a `(status, code)` call from other texts."""


@dataclass(frozen=True)
class Produced:
    """One place that answers `code`; `status` is None where the source alone does not say it (`code = "…"`)."""

    code: str
    status: int | None
    where: str


def _error_classes() -> dict[str, type[DomainError]]:
    for module in pkgutil.walk_packages(app.__path__, "app."):
        importlib.import_module(module.name)
    found: dict[str, type[DomainError]] = {}
    pending = [DomainError]
    while pending:
        cls = pending.pop()
        found[cls.__name__] = cls
        pending.extend(cls.__subclasses__())
    return found


def _status_of(cls: type[DomainError]) -> int:
    """The status the one problem handler gives an error of this class."""
    error = cls.__new__(cls)
    error.detail, error.errors, error.extra = "", [], {}
    error.retry_after_seconds = 1  # type: ignore[attr-defined]
    return domain_error_response(error).status_code


def _callee(call: ast.Call) -> str | None:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def _is_status(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) is int and 400 <= node.value <= 599


def _is_text(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _is_code(node: ast.expr | None) -> bool:
    return _is_text(node) and bool(CODE_SHAPE.match(node.value))  # type: ignore[union-attr]


def _class_body_assigns(tree: ast.Module) -> set[int]:
    """Class-level `code = "…"` are defaults, answered only where the class is raised without a code."""
    return {id(stmt) for node in ast.walk(tree) if isinstance(node, ast.ClassDef) for stmt in node.body}


def _produced() -> Iterator[Produced]:
    classes = _error_classes()
    for path in sorted(APP.rglob("*.py")):
        if path.relative_to(ROOT).as_posix() == CATALOGUE:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        defaults = _class_body_assigns(tree)
        for node in ast.walk(tree):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Call):
                yield from _from_call(node, classes, where)
            elif isinstance(node, ast.Dict):
                # a status → code table, e.g. the codes of the framework's own HTTP errors
                for key, value in zip(node.keys, node.values, strict=True):
                    if key is not None and _is_status(key) and _is_code(value):
                        yield Produced(value.value, key.value, where)  # type: ignore[attr-defined]
            elif isinstance(node, ast.Assign) and id(node) not in defaults:
                for target in node.targets:
                    names = target.elts if isinstance(target, ast.Tuple) else [target]
                    values = node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]
                    for name, value in zip(names, values, strict=False):
                        if isinstance(name, ast.Name) and name.id == "code" and _is_code(value):
                            yield Produced(value.value, None, where)  # type: ignore[attr-defined]


def _from_call(call: ast.Call, classes: dict[str, type[DomainError]], where: str) -> Iterator[Produced]:
    name = _callee(call)
    code = next((k.value for k in call.keywords if k.arg == "code"), None)
    if name in classes:
        cls = classes[name]
        if code is None:
            yield Produced(cls.code, _status_of(cls), where)
        elif _is_text(code):
            yield Produced(code.value, _status_of(cls), where)  # type: ignore[attr-defined]
        else:
            yield Produced(f"<{ast.unparse(code)}>", None, f"{where} (not a string literal)")
    elif code is not None:
        yield Produced(f"<{ast.unparse(code)}>", None, f"{where} (passed to {name}(), not a domain error)")
    # problem_response(422, "validation_failed", …), _send_problem(send, 413, "payload_too_large", …)
    for status, text in zip(call.args, call.args[1:], strict=False):
        if _is_status(status) and _is_code(text):
            yield Produced(text.value, status.value, where)  # type: ignore[attr-defined]


PRODUCED = list(_produced())


def test_every_code_the_service_answers_is_catalogued_with_the_status_it_is_answered_with():
    problems = []
    for produced in PRODUCED:
        entry = BY_CODE.get(produced.code)
        if produced.code.startswith("<"):
            problems.append(
                f'{produced.where}: the code {produced.code} cannot be checked; pass a string literal `code="…"` '
                "to a domain error class (or teach tests/unit/test_problem_codes.py this way of producing codes)"
            )
        elif entry is None:
            status = produced.status if produced.status is not None else "<status>"
            problems.append(
                f"{produced.where} answers '{produced.code}', which is not catalogued: add "
                f'ProblemCode("{produced.code}", {status}, "<Title>", "<one-line meaning>") to PROBLEM_CODES in '
                f"{CATALOGUE}, then run {REFRESH}"
            )
        elif produced.status is not None and produced.status != entry.status:
            problems.append(
                f"{produced.where} answers '{produced.code}' with {produced.status}, but {CATALOGUE} lists it as "
                f"{entry.status}: give that raise site a code of its own (catalogued with {produced.status}), or "
                f"change the catalogue's status and run {REFRESH}"
            )
    assert not problems, "\n".join(problems)


def test_every_catalogued_code_is_still_answered_somewhere():
    answered = {produced.code for produced in PRODUCED}
    stale = [
        f"'{entry.code}' is in PROBLEM_CODES ({CATALOGUE}) but nothing in app/ answers it any more: remove it there, "
        f"then run {REFRESH}"
        for entry in PROBLEM_CODES
        if entry.code not in answered
    ]
    assert not stale, "\n".join(stale)


def test_the_catalogue_lists_each_code_once():
    codes = [entry.code for entry in PROBLEM_CODES]
    assert len(codes) == len(set(codes)), sorted({c for c in codes if codes.count(c) > 1})


def test_the_readme_problem_codes_table_is_the_catalogue():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert README_START in readme and README_END in readme, f"README.md lost its problem-codes markers; run {REFRESH}"
    assert with_readme_table(readme) == readme, f"README.md's problem-codes table is out of date: run {REFRESH}"
