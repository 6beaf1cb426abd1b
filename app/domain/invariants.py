"""Checks of what the service's own rules guarantee (a foreign key points somewhere, a row just written exists).
They stay under `python -O`, unlike `assert`; a failure is a bug, answered 500 with the request id."""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")


class InvariantBroken(RuntimeError):
    """A state the service's rules exclude was found."""


def present(value: T | None, what: str) -> T:
    """`value`, which the rules say exists; `what` names it for the log."""
    if value is None:
        raise InvariantBroken(f"{what} is missing")
    return value


def of_type(value: object, kind: type[T]) -> T:
    """`value` as the `kind` the caller's table promises (a workflow action's payload class)."""
    if not isinstance(value, kind):
        raise InvariantBroken(f"expected {kind.__name__}, got {type(value).__name__}")
    return value
