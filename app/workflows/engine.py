"""The workflow engine: a table of states and transitions, compiled once into a `transitions` Machine
that every object of the workflow shares (objects carry only their state name, never a Machine)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Generic, TypeVar

from pydantic import Field, ValidationError
from transitions import Machine
from transitions import Transition as CompiledTransition

from app.domain.errors import Conflict, DomainError, FieldError, Forbidden, InvalidInput
from app.domain.principal import Principal, Role
from app.workflows.inputs import StrictInput

S = TypeVar("S")  # the object a workflow moves: a ticket, a task, an after-sales order


@dataclass(frozen=True, slots=True)
class Label:
    zh: str
    en: str

    def pick(self, language: str) -> str:
        return self.en if language == "en" else self.zh


@dataclass(frozen=True, slots=True)
class State:
    """A node, with what an agent sees (every detail) and what the customer sees (a few plain steps)."""

    name: str
    agent: Label
    customer: Label
    customer_message: Label | None = None
    final: bool = False


class Payload(StrictInput):
    """An action's body: `remark` plus the action's own fields; unknown fields are refused."""

    remark: str | None = Field(None, max_length=2000, description="Free text recorded on the timeline.")


class NoPayload(Payload):
    pass


Guard = Callable[[Any, Principal, Any], str | None]
"""(object, principal, payload) → None when the action may proceed, else the reason it may not."""
Refusal = Callable[[Any, Conflict], DomainError]
"""The error an action held back by a guard answers instead of the generic conflict (which tasks block, whose
capacity, when to urge again), from the object and that conflict."""


@dataclass(frozen=True, slots=True)
class Transition:
    action: str
    sources: tuple[str, ...]
    dest: str | None  # None: the state stays (escalate, urge)
    roles: frozenset[Role]
    payload: type[Payload] = NoPayload
    guards: tuple[Guard, ...] = ()
    customer: bool = False  # the object's own customer may trigger it
    public: bool = True  # shown on the customer's timeline
    description: str = ""
    idempotent: bool = False  # an external system's step: repeating it once it took effect changes nothing


@dataclass(frozen=True, slots=True)
class Move:
    """The outcome of a permitted action: the transition taken and its validated payload."""

    transition: Transition
    source: str
    payload: Payload

    @property
    def dest(self) -> str:
        return self.transition.dest or self.source


@dataclass(frozen=True, slots=True, eq=False)
class AvailableAction:
    """One button. Built once per state and transition when the workflow is built, and compared by identity, so
    that what renders it can be cached on it."""

    action: str
    dest: str
    description: str
    payload_schema: dict[str, Any]


class _Compiled(CompiledTransition):  # type: ignore[misc]
    """A `transitions` edge that carries the declared spec it was compiled from."""

    def __init__(self, *args: Any, spec: Transition, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.spec = spec


class _Machine(Machine):  # type: ignore[misc]
    transition_cls = _Compiled


@dataclass
class Workflow(Generic[S]):
    name: str
    title: Label
    states: Sequence[State]
    transitions: Sequence[Transition]
    initial: str
    state_of: Callable[[S], str]
    is_own_customer: Callable[[S, Principal], bool]
    refusals: Mapping[Guard, Refusal] = field(default_factory=dict)
    """Guards whose refusal a caller can act on, with the error each answers."""
    _machine: Machine = field(init=False, repr=False)
    _states: dict[str, State] = field(init=False, repr=False)
    _ahead: dict[str, frozenset[str]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._states = {state.name: state for state in self.states}
        # `transitions` validates the graph (states exist, no duplicate triggers per source are lost) and keeps
        # declaration order per (action, source): the first whose guards pass wins.
        self._machine = _Machine(
            model=None,
            states=list(self._states),
            initial=self.initial,
            auto_transitions=False,
            transitions=[
                {"trigger": t.action, "source": list(t.sources), "dest": t.dest, "spec": t} for t in self.transitions
            ],
        )
        self._ahead = {name: self._reachable(name) for name in self._states}
        # What leaves each state, and by which transitions: asked for every object of every list page, and fixed
        # once the table is built (transitions computes it anew on each call).
        self._leaving = {
            state: tuple(
                (action, tuple((spec, _button(action, spec, state)) for spec in self._candidates(action, state)))
                for action in self._machine.get_triggers(state)
            )
            for state in self._states
        }

    def _reachable(self, start: str) -> frozenset[str]:
        """States that can follow `start`: where an object that has been in `start` may be now."""
        seen, pending = {start}, [start]
        while pending:
            source = pending.pop()
            for spec in self.transitions:
                if source in spec.sources and spec.dest and spec.dest not in seen:
                    seen.add(spec.dest)
                    pending.append(spec.dest)
        return frozenset(seen)

    def state(self, name: str) -> State:
        return self._states[name]

    def _candidates(self, action: str, source: str) -> list[Transition]:
        event = self._machine.events.get(action)
        return [t.spec for t in event.transitions.get(source, [])] if event else []

    def _may_call(self, spec: Transition, obj: S, principal: Principal) -> bool:
        if principal.is_customer:
            return spec.customer and self.is_own_customer(obj, principal)
        return principal.has_any(spec.roles)

    def _takes(self, spec: Transition, obj: S, principal: Principal) -> bool:
        """Whether this principal may take `spec` now, as far as is known before a payload is sent."""
        return self._may_call(spec, obj, principal) and all(
            guard(obj, principal, None) is None for guard in spec.guards
        )

    def available(self, obj: S, principal: Principal) -> list[AvailableAction]:
        """What this principal may do to this object now, so apps and chatbots can draw their buttons."""
        source, found, seen = self.state_of(obj), [], set()
        for action, specs in self._leaving[source]:
            for spec, button in specs:
                if action not in seen and self._takes(spec, obj, principal):
                    seen.add(action)
                    found.append(button)
        return found

    def passed(self, obj: S, principal: Principal, action: str) -> bool:
        """Whether `action` is another system's step (idempotent) that the object has already gone through: it
        cannot be taken now, and the state it leads to precedes the object's state (payment accepted arriving
        after payment succeeded, a repeated report). The caller answers with the object unchanged instead of a
        conflict; a step that contradicts the state (failed after succeeded) is not idempotent and conflicts."""
        state = self.state_of(obj)
        if any(self._takes(spec, obj, principal) for spec in self._candidates(action, state)):
            return False
        return any(
            t.action == action
            and t.idempotent
            and t.dest is not None
            and state in self._ahead[t.dest]
            and self._may_call(t, obj, principal)
            for t in self.transitions
        )

    def decide(self, obj: S, principal: Principal, action: str, body: Mapping[str, Any]) -> Move:
        """The move `action` makes from the object's state, or the domain error that forbids it."""
        source = self.state_of(obj)
        candidates = self._candidates(action, source)
        if not candidates:
            raise self._not_now(obj, principal, action)
        permitted = [spec for spec in candidates if self._may_call(spec, obj, principal)]
        if not permitted:
            raise Forbidden(f"Your roles may not '{action}' this {self.name}", code="action_forbidden")
        reasons: list[str] = []
        for spec in permitted:
            payload = _parse(spec.payload, body)
            reason = next((r for guard in spec.guards if (r := guard(obj, principal, payload)) is not None), None)
            if reason is None:
                return Move(spec, source, payload)
            reasons.append(reason)
        refused = self._not_now(obj, principal, action, reason="; ".join(reasons))
        for spec in permitted:
            failing = [guard for guard in spec.guards if guard(obj, principal, None) is not None]
            if failing and all(guard in self.refusals for guard in failing):
                raise self.refusals[failing[0]](obj, refused) from refused
        raise refused

    def _not_now(self, obj: S, principal: Principal, action: str, reason: str | None = None) -> Conflict:
        state = self.state_of(obj)
        allowed = [a.action for a in self.available(obj, principal)]
        known = action in self._machine.events
        detail = reason or (
            f"'{action}' is not possible while the {self.name} is '{state}'"
            if known
            else f"'{action}' is not an action of the {self.name} workflow"
        )
        return Conflict(detail, code="action_not_allowed", extra={"current_state": state, "allowed_actions": allowed})

    def mermaid(self, language: str = "zh") -> str:
        lines = ["stateDiagram-v2", f"    [*] --> {self.initial}"]
        lines += [f"    {s.name}: {s.agent.pick(language)}" for s in self.states]
        for spec in self.transitions:
            for source in spec.sources:
                lines.append(f"    {source} --> {spec.dest or source}: {spec.action}")
        lines += [f"    {s.name} --> [*]" for s in self.states if s.final]
        return "\n".join(lines) + "\n"


@cache
def payload_schema(model: type[Payload]) -> dict[str, Any]:
    """JSON schema of an action's body, built once per payload class (building it costs milliseconds)."""
    return model.model_json_schema()


def _parse(model: type[Payload], body: Mapping[str, Any]) -> Payload:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise InvalidInput(
            f"The action's fields are invalid ({len(exc.errors())} error(s))",
            code="validation_failed",
            errors=[
                FieldError(
                    "".join(f"/{p}" for p in e["loc"]), "unknown field" if e["type"] == "extra_forbidden" else e["msg"]
                )
                for e in exc.errors()
            ],
        ) from exc


def _button(action: str, spec: Transition, source: str) -> AvailableAction:
    return AvailableAction(action, spec.dest or source, spec.description, payload_schema(spec.payload))
