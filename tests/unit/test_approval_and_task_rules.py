"""Approval chains and task rules without a database: who may decide, when a level is done, what hours are
possible, when reminders are owed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from app.domain.approvals import (
    Approval,
    ApproverKind,
    Decision,
    Level,
    LevelSpec,
    Mode,
    Status,
    SubjectKind,
    Vote,
    chain_problems,
    decide,
)
from app.domain.errors import Conflict, Forbidden
from app.domain.principal import Principal, Role
from app.domain.tasks import Outcome, ReminderPolicy, Task, hours_problem, next_reminder, outcome_of, reminder_due

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ALICE = Principal("alice", frozenset({Role.AGENT}))
BOB = Principal("bob", frozenset({Role.AGENT}))
BOSS = Principal("boss", frozenset({Role.MANAGER}))


def approval(levels: list[tuple[Mode, list[str]]], requested_by: str = "handler") -> Approval:
    return Approval(
        id=uuid4(),
        kind=SubjectKind.TASK_HOURS,
        subject_id=uuid4(),
        subject_ref="TK-2026-000001",
        title="工时审批",
        requested_by=requested_by,
        status=Status.PENDING,
        current_level=0,
        levels=tuple(Level(f"L{n}", mode) for n, (mode, _) in enumerate(levels)),
        votes=tuple(Vote(n, who) for n, (_, people) in enumerate(levels) for who in people),
        created_at=NOW,
        updated_at=NOW,
    )


def test_any_of_level_is_done_by_the_first_approval():
    after = decide(approval([(Mode.ANY, ["alice", "bob"])]), ALICE, Decision.APPROVE, None, {}, NOW)
    assert after.status is Status.APPROVED


def test_all_of_level_waits_for_every_approver():
    first = decide(approval([(Mode.ALL, ["alice", "bob"])]), ALICE, Decision.APPROVE, None, {}, NOW)
    assert (first.status, first.pending_approvers()) == (Status.PENDING, ["bob"])
    assert decide(first, BOB, Decision.APPROVE, None, {}, NOW).status is Status.APPROVED


def test_a_rejection_ends_the_chain_at_once():
    chain = approval([(Mode.ALL, ["alice", "bob"]), (Mode.ANY, ["role:manager"])])
    assert decide(chain, ALICE, Decision.REJECT, "no", {}, NOW).status is Status.REJECTED


def test_the_same_approver_decides_the_next_level_at_once():
    chain = approval([(Mode.ANY, ["role:manager"]), (Mode.ANY, ["role:manager"])])
    after = decide(chain, BOSS, Decision.APPROVE, None, {}, NOW)
    assert after.status is Status.APPROVED
    assert [v.decided_by for v in after.votes] == ["boss", "boss"]


def test_role_slots_are_filled_by_any_holder_and_nobody_else():
    chain = approval([(Mode.ANY, ["role:manager"])])
    with pytest.raises(Forbidden) as refused:
        decide(chain, ALICE, Decision.APPROVE, None, {}, NOW)
    assert refused.value.code == "not_an_approver"
    assert decide(chain, BOSS, Decision.APPROVE, None, {}, NOW).status is Status.APPROVED


def test_nobody_approves_their_own_request_or_decides_twice():
    with pytest.raises(Forbidden) as own:
        decide(approval([(Mode.ANY, ["alice"])], requested_by="alice"), ALICE, Decision.APPROVE, None, {}, NOW)
    assert own.value.code == "self_approval"
    once = decide(approval([(Mode.ALL, ["alice", "bob"])]), ALICE, Decision.APPROVE, None, {}, NOW)
    with pytest.raises(Conflict) as twice:
        decide(once, ALICE, Decision.APPROVE, None, {}, NOW)
    assert twice.value.code == "already_decided"
    done = decide(once, BOB, Decision.APPROVE, None, {}, NOW)
    with pytest.raises(Conflict) as closed:
        decide(done, BOB, Decision.APPROVE, None, {}, NOW)
    assert closed.value.code == "approval_closed"


def test_levels_apply_above_their_amount_and_to_their_types():
    level = LevelSpec("经理", ApproverKind.ROLE, ("manager",), above_amount=100_000, types=("compensation",))
    assert level.applies(100_001, "compensation")
    assert not level.applies(100_000, "compensation")
    assert not level.applies(500_000, "refund")
    assert not level.applies(None, "compensation")


def test_unusable_chains_are_refused_with_the_field_named():
    problems = chain_problems(
        (
            LevelSpec("a", ApproverKind.ROLE, ("manager",), Mode.ALL),
            LevelSpec("b", ApproverKind.USER),
            LevelSpec("c", ApproverKind.ROLE, ("customer",)),
            LevelSpec("d", ApproverKind.SUPERVISOR, ("x",)),
        )
    )
    assert [p.pointer for p in problems] == ["/levels/0/mode", "/levels/1/ids", "/levels/2/ids", "/levels/3/ids"]


def task(**fields: object) -> Task:
    base = Task(
        id=uuid4(),
        number="TK-2026-000001",
        ticket_id=uuid4(),
        title="检修",
        status="in_progress",
        due_at=NOW + timedelta(hours=5),
        created_by="agent-1",
        created_at=NOW,
        updated_at=NOW,
    )
    return Task(**{**{f: getattr(base, f) for f in base.__dataclass_fields__}, **fields})  # type: ignore[arg-type]


def test_hours_worked_are_at_most_24_per_day_of_elapsed_time():
    same_day = (NOW, NOW + timedelta(hours=1))
    assert hours_problem(800, *same_day) is None  # work begun before it was recorded
    assert "24 hours per day" in (hours_problem(2_500, *same_day) or "")
    assert hours_problem(4_800, NOW, NOW + timedelta(days=1, hours=1)) is None
    assert hours_problem(0, *same_day) == "hours worked must be more than zero"


def test_outcome_compares_actual_and_required_completion():
    assert outcome_of(task(completed_at=NOW + timedelta(hours=5))) is Outcome.ON_TIME
    assert outcome_of(task(completed_at=NOW + timedelta(hours=5, seconds=1))) is Outcome.OVERDUE


def test_reminders_are_owed_once_each_and_never_for_finished_work():
    policy = ReminderPolicy(lead=timedelta(hours=2))
    fresh = task()
    assert next_reminder(fresh, policy) == NOW + timedelta(hours=3)
    assert reminder_due(fresh, NOW + timedelta(hours=1), policy) is None
    assert reminder_due(fresh, NOW + timedelta(hours=4), policy) == "due_soon"
    assert reminder_due(fresh, NOW + timedelta(hours=6), policy) == "overdue"
    warned = task(due_soon_notified=True)
    assert next_reminder(warned, policy) == warned.due_at
    assert next_reminder(task(due_soon_notified=True, overdue_notified=True), policy) is None
    assert next_reminder(task(status="reported"), policy) is None
    assert reminder_due(task(status="approved"), NOW + timedelta(days=1), policy) is None
