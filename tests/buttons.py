"""Buttons never lie (DESIGN.md), as a reusable property check: walk an object through every state the API lets its
callers reach, and at each state check, for every caller, that the actions its single read offers are the ones every
list view of it offers, and that each offered action, sent with a minimal valid body built from its
`payload_schema`, is accepted.

A workflow's test supplies a `Driver` (how to create, read, list and move one kind of object through the API) and
calls `walk`; the returned `Walk` lists what lied. Used for tickets and tasks (tests/api/test_buttons_never_lie.py)
and meant for after-sales orders too."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx

JsonSchema = Mapping[str, Any]
STRING_CANDIDATES = ("x", "1", "A1", "CNY", "T-2026-000001")
"""Tried in turn for a string field with a `pattern` that `known` does not cover; the first that matches is sent."""


def minimal_body(schema: JsonSchema, known: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A minimal valid JSON body for an action's `payload_schema`: every required field with a valid value, and the
    fields of `known` the schema has (also optional ones: a rule the schema cannot say, such as "an assignee or a
    group", is met by naming them). `known` gives values by field name for what no schema can tell (a registered
    agent's id, an existing group key); other values come from the schema itself (see `minimal_value`)."""
    known = known or {}
    properties = schema.get("properties", {})
    body = {name: value for name, value in known.items() if name in properties}
    for name in schema.get("required", []):
        if name not in body:
            body[name] = minimal_value(properties[name], schema, name, known)
    return body


def minimal_value(prop: JsonSchema, root: JsonSchema, name: str, known: Mapping[str, Any]) -> Any:
    """The simplest valid value of one field: an enum's or const's first value, the first non-null `anyOf` choice, a
    nested object's minimal body (through `$ref` into the root's `$defs`), `minItems` copies of an array's item, the
    lowest allowed number, now for a date-time, and for other strings a short text of `minLength` or the first of
    STRING_CANDIDATES that matches the pattern."""
    if "$ref" in prop:
        return minimal_body(_resolve(prop["$ref"], root) | {"$defs": root.get("$defs", {})}, known)
    if "const" in prop:
        return prop["const"]
    if "enum" in prop:
        return prop["enum"][0]
    for combined in ("anyOf", "oneOf", "allOf"):
        if combined in prop:
            choice = next(p for p in prop[combined] if p.get("type") != "null")
            return minimal_value(choice, root, name, known)
    kind = prop.get("type")
    if kind == "object":
        return minimal_body(prop | {"$defs": root.get("$defs", {})}, known)
    if kind == "array":
        return [minimal_value(prop["items"], root, name, known) for _ in range(prop.get("minItems", 0))]
    if kind in ("integer", "number"):
        return _lowest(prop, integer=kind == "integer")
    if kind == "boolean":
        return False
    if kind == "string":
        return _text(prop, name)
    raise ValueError(f"no minimal value for field '{name}' of schema {prop}")


def _resolve(ref: str, root: JsonSchema) -> JsonSchema:
    target: Any = root
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    return target


def _lowest(prop: JsonSchema, *, integer: bool) -> int | float:
    if "minimum" in prop:
        low = prop["minimum"]
    elif "exclusiveMinimum" in prop:
        low = prop["exclusiveMinimum"] + 1
    else:
        low = 1
    return int(low) if integer else low


def _text(prop: JsonSchema, name: str) -> str:
    if prop.get("format") == "date-time":
        return datetime.now(UTC).isoformat().replace("+00:00", "Z")
    pattern = prop.get("pattern")
    if pattern is None:
        return "x" * max(1, prop.get("minLength", 1))
    match = next((c for c in STRING_CANDIDATES if re.search(pattern, c)), None)
    if match is None:
        raise ValueError(f"field '{name}' has pattern {pattern!r}: give its value in `known`")
    return match


@dataclass(frozen=True, slots=True)
class Step:
    """One move: `actor` (a key of the driver's callers) takes `action` with a body built from `schema` and
    `known` each time it is taken (so times in it are always now, also when the step is replayed). `setup` steps
    are not workflow actions but moves a caller can make otherwise (give out a task), walked to reach more states."""

    actor: str
    action: str
    schema: JsonSchema = field(default_factory=dict)
    known: Mapping[str, Any] = field(default_factory=dict)
    setup: bool = False

    def body(self) -> dict[str, Any]:
        return minimal_body(self.schema, self.known)


class Driver(Protocol):
    """How to drive one kind of object through the API. Objects are the JSON the API answers with."""

    actors: Sequence[str]
    """Every caller to check, by the keys steps name them with."""

    async def create(self) -> dict[str, Any]:
        """A fresh object in the walk's first state."""
        ...

    async def perform(self, obj: dict[str, Any], step: Step) -> httpx.Response:
        """Take one step on the object."""
        ...

    async def read(self, obj: dict[str, Any], actor: str) -> dict[str, Any] | None:
        """The object as `actor` reads it alone; None when they may not read it."""
        ...

    async def listed(self, obj: dict[str, Any], actor: str, single: dict[str, Any]) -> list[dict[str, Any]]:
        """The object as each list or queue view `actor` may read shows it (views it is not in are left out);
        `single` is its single read by the same actor."""
        ...

    def known(self, actor: str, action: str) -> Mapping[str, Any]:
        """Field values for `minimal_body` that no schema can tell (existing agents, groups)."""
        ...

    async def state(self, obj: dict[str, Any]) -> Hashable:
        """What makes a state worth walking: states with equal keys are walked once."""
        ...

    async def setup_steps(self, obj: dict[str, Any]) -> list[Step]:
        """Moves other than workflow actions to walk from this state too."""
        ...


@dataclass(frozen=True, slots=True)
class Lie:
    """One broken promise: at `state`, `step` was offered to its actor but answered `status`; or (status None) the
    views disagreed on what to offer."""

    state: Hashable
    step: Step
    status: int | None
    detail: str


@dataclass
class Walk:
    """What a walk found: the states reached (in order), how many offered actions it took, and every lie."""

    states: list[Hashable] = field(default_factory=list)
    checked: int = 0  # offered actions performed
    lies: list[Lie] = field(default_factory=list)


def action_names(obj: Mapping[str, Any]) -> list[str]:
    """The actions an object's `available_actions` offers, in order."""
    return [a["action"] for a in obj["available_actions"]]


async def walk(driver: Driver, *, max_states: int = 40, at_once: int = 6) -> Walk:
    """Breadth-first over the states the driver's callers can reach, each state walked once (by `Driver.state`).
    Each offered action is taken on its own object brought to the state by replaying the steps that led there (the
    object that reached it serves the first), so each is tried from exactly that state; up to `at_once` of a
    state's steps run together (each on its own object). A state's views are read as soon as a step reaches it."""
    result = Walk()
    root = await driver.create()
    frontier = [await _reached(driver, (), root, result)]
    gate = asyncio.Semaphore(at_once)

    async def take(path: tuple[Step, ...], spare: dict[str, Any] | None, step: Step) -> tuple[Any, httpx.Response]:
        async with gate:
            target = spare if spare is not None else await _replay(driver, path)
            return target, await driver.perform(target, step)

    while frontier:
        path, obj, key, steps = frontier.pop(0)
        taken = await asyncio.gather(*(take(path, obj if n == 0 else None, step) for n, step in enumerate(steps)))
        for step, (target, response) in zip(steps, taken, strict=True):
            if not step.setup:
                result.checked += 1
                if not response.is_success:
                    result.lies.append(Lie(key, step, response.status_code, response.text[:300]))
            if not response.is_success or len(result.states) >= max_states:
                continue
            if (reached := await driver.state(target)) not in result.states:
                frontier.append(await _reached(driver, (*path, step), target, result, reached))
    return result


async def _reached(
    driver: Driver,
    path: tuple[Step, ...],
    obj: dict[str, Any],
    result: Walk,
    key: Hashable | None = None,
) -> tuple[tuple[Step, ...], dict[str, Any], Hashable, list[Step]]:
    """A state reached for the first time: recorded, its views compared, its steps to walk listed."""
    key = key if key is not None else await driver.state(obj)
    result.states.append(key)
    steps = [*await _offered(driver, obj, key, result), *await driver.setup_steps(obj)]
    return path, obj, key, steps


async def _offered(driver: Driver, obj: dict[str, Any], key: Hashable, result: Walk) -> list[Step]:
    steps: list[Step] = []
    for actor in driver.actors:
        single = await driver.read(obj, actor)
        if single is None:
            continue
        names = action_names(single)
        for view in await driver.listed(obj, actor, single):
            if action_names(view) != names:
                detail = f"single read offers {names}, a list offers {action_names(view)}"
                result.lies.append(Lie(key, Step(actor, "(views)"), None, detail))
        for offer in single["available_actions"]:
            steps.append(Step(actor, offer["action"], offer["payload_schema"], driver.known(actor, offer["action"])))
    return steps


async def _replay(driver: Driver, path: Sequence[Step]) -> dict[str, Any]:
    obj = await driver.create()
    for step in path:
        response = await driver.perform(obj, step)
        if not response.is_success:
            raise AssertionError(f"replaying {step} answered {response.status_code}: {response.text[:300]}")
    return obj
