"""SLA policies: which policy a ticket or after-sales order gets, what a policy measures and where its clocks stand
still, and every way a policy set is refused, each named by its JSON pointer."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from app.domain.after_sales import AfterSalesOrder, AfterSalesType
from app.domain.errors import InvalidInput
from app.domain.sla_policies import (
    FIRST_REPLY,
    NEXT_REPLY,
    PERIODIC_UPDATE,
    REASSIGN_TO_POOL,
    REFUND_COMPLETION,
    RESOLUTION,
    REVIEW,
    WAITING_ON_CUSTOMER,
    WAITING_ON_THIRD_PARTY,
    Escalation,
    PolicyTerms,
    SlaPolicy,
    Subject,
    SubjectStates,
    Target,
    WarningRule,
    after_sales_facts,
    check_policies,
    default_pauses,
    limited_state,
    match,
    policy_errors,
    raised_priority,
    state_metric,
    ticket_facts,
)
from app.domain.tickets import Channel, Priority, Ticket, TicketType
from app.workflows.after_sales import AFTER_SALES_WORKFLOWS
from app.workflows.ticket import TICKET

HOUR = 3600
OFFICE = Target(8 * HOUR, business=True, calendar="cn-office")


def _states(workflows: list) -> SubjectStates:
    states = [state for workflow in workflows for state in workflow.states]
    return SubjectStates(frozenset(s.name for s in states), frozenset(s.name for s in states if s.final))


TERMS = PolicyTerms(
    {Subject.TICKET: _states([TICKET]), Subject.AFTER_SALES: _states(list(AFTER_SALES_WORKFLOWS.values()))},
    calendars={"cn-office"},
    groups={"repairs-east"},
)


def ticket_policy(key: str, position: int, **kw: object) -> SlaPolicy:
    kw.setdefault("targets", {FIRST_REPLY: {"normal": OFFICE}})
    return SlaPolicy(key, key.replace("-", " ").title(), position, Subject.TICKET, **kw)  # type: ignore[arg-type]


DEFAULT = ticket_policy("default", 1000)
VIP = ticket_policy("vip", 10, conditions={"vip": {True}})
EAST_REPAIRS = ticket_policy("east-repairs", 20, conditions={"region": {"east"}, "type": {"repair"}})
URGENT = ticket_policy("urgent", 5, conditions={"priority": {"urgent"}})
REFUNDS = SlaPolicy("refunds", "Refunds", 1000, Subject.AFTER_SALES, targets={REVIEW: {"normal": OFFICE}})


def refusals(policies: list[SlaPolicy]) -> dict[str, str]:
    with pytest.raises(InvalidInput) as refused:
        check_policies(policies, TERMS)
    return {error.pointer: error.detail for error in refused.value.errors}


# Matching


def test_the_first_policy_by_position_wins_whatever_the_list_order():
    policies = [DEFAULT, EAST_REPAIRS, VIP, URGENT]
    facts = {"priority": "urgent", "vip": True, "region": "east", "type": "repair"}

    assert match(policies, Subject.TICKET, facts) is URGENT
    assert match(policies, Subject.TICKET, {**facts, "priority": "high"}) is VIP


def test_a_ticket_no_condition_accepts_falls_to_the_default():
    assert match([VIP, DEFAULT, URGENT], Subject.TICKET, {"priority": "low", "vip": False}) is DEFAULT


def test_every_condition_must_accept_its_fact():
    policies = [EAST_REPAIRS, DEFAULT]

    assert match(policies, Subject.TICKET, {"region": "east", "type": "repair"}) is EAST_REPAIRS
    assert match(policies, Subject.TICKET, {"region": "east", "type": "complaint"}) is DEFAULT


def test_an_absent_fact_never_satisfies_a_condition_on_it():
    policies = [EAST_REPAIRS, VIP, DEFAULT]

    assert match(policies, Subject.TICKET, {"type": "repair", "region": None}) is DEFAULT
    assert match(policies, Subject.TICKET, {"type": "repair"}) is DEFAULT
    assert match(policies, Subject.TICKET, {"vip": None}) is DEFAULT


def test_a_vip_policy_takes_vip_customers_only():
    policies = [VIP, DEFAULT]

    assert match(policies, Subject.TICKET, {"vip": True}) is VIP
    assert match(policies, Subject.TICKET, {"vip": False}) is DEFAULT


def test_policies_of_the_other_subject_are_not_candidates():
    assert match([REFUNDS, DEFAULT], Subject.AFTER_SALES, {"type": "refund"}) is REFUNDS
    assert match([REFUNDS], Subject.TICKET, {"priority": "normal"}) is None


def test_a_tickets_facts_come_from_the_ticket_its_customer_and_contract():
    now = datetime(2026, 3, 2, tzinfo=UTC)
    ticket = Ticket(
        id=uuid4(),
        number="T-2026-000001",
        customer_no="C-1",
        channel=Channel.WECHAT,
        type=TicketType.REPAIR,
        priority=Priority.HIGH,
        title="Washer leaks",
        description="Water on the floor",
        status="new",
        created_by="C-1",
        created_at=now,
        updated_at=now,
        category="leak",
        region="east",
        business_line="appliances",
        group_key="repairs-east",
    )

    facts = ticket_facts(ticket, customer_level="vip", contract_sla_level="premium")

    assert facts == {
        "priority": "high",
        "type": "repair",
        "category": "leak",
        "channel": "wechat",
        "customer_level": "vip",
        "vip": True,
        "contract_sla_level": "premium",
        "group_key": "repairs-east",
        "business_line": "appliances",
        "region": "east",
    }
    assert ticket_facts(ticket, customer_level="gold")["vip"] is False
    assert ticket_facts(ticket)["vip"] is None
    assert match([EAST_REPAIRS, DEFAULT], Subject.TICKET, facts) is EAST_REPAIRS


def test_an_after_sales_orders_facts_are_its_type_line_and_customer():
    now = datetime(2026, 3, 2, tzinfo=UTC)
    order = AfterSalesOrder(
        id=uuid4(),
        number="AS-2026-000001",
        order_no="SO-1",
        customer_no="C-1",
        type=AfterSalesType.RETURN_REFUND,
        status="under_review",
        currency="CNY",
        amount=5_000,
        lines=(),
        reason_code="damaged",
        created_by="C-1",
        created_at=now,
        updated_at=now,
        business_line="appliances",
    )

    assert after_sales_facts(order, customer_level="silver") == {
        "type": "return_refund",
        "business_line": "appliances",
        "customer_level": "silver",
        "vip": False,
    }


# What a policy measures


def test_targets_are_per_metric_and_priority_and_after_sales_reads_normal():
    urgent = Target(2 * HOUR, business=False)
    policy = ticket_policy("p", 1, targets={FIRST_REPLY: {"normal": OFFICE, "urgent": urgent}})

    assert policy.target(FIRST_REPLY, "urgent") == urgent
    assert policy.target(FIRST_REPLY, Priority.NORMAL) == OFFICE
    assert policy.target(FIRST_REPLY, "low") is None
    assert policy.target(RESOLUTION, "normal") is None
    assert REFUNDS.target(REVIEW, "urgent") == OFFICE


def test_waiting_on_the_customer_stops_the_work_clocks_but_never_a_reply_owed():
    pauses = default_pauses(Subject.TICKET)

    assert "waiting_on_customer" in pauses[RESOLUTION]
    assert "waiting_on_customer" in pauses[PERIODIC_UPDATE]
    assert pauses[FIRST_REPLY] == frozenset()
    assert pauses[NEXT_REPLY] == frozenset()
    assert default_pauses(Subject.AFTER_SALES) == {REVIEW: frozenset(), REFUND_COMPLETION: {"awaiting_return"}}


def test_waiting_states_are_states_of_the_workflows():
    for subject, waits in (*WAITING_ON_CUSTOMER.items(), *WAITING_ON_THIRD_PARTY.items()):
        assert waits <= TERMS.states[subject].names - TERMS.states[subject].final


def test_a_policy_overrides_the_pauses_of_the_metrics_it_names_only():
    policy = ticket_policy("p", 1, pauses={RESOLUTION: set(), state_metric("in_progress"): {"waiting_on_customer"}})

    assert policy.pause_states(RESOLUTION) == frozenset()
    assert policy.pause_states(PERIODIC_UPDATE) == {"waiting_on_customer"}
    assert policy.pause_states(state_metric("in_progress")) == {"waiting_on_customer"}
    assert policy.pause_states(state_metric("assigned")) == frozenset()


def test_a_state_metric_names_its_status():
    assert state_metric("in_progress") == "state:in_progress"
    assert limited_state("state:in_progress") == "in_progress"
    assert limited_state(RESOLUTION) is None


def test_a_breach_raises_the_priority_one_step_and_never_above_urgent():
    assert [raised_priority(p) for p in Priority] == [Priority.NORMAL, Priority.HIGH, Priority.URGENT, Priority.URGENT]
    assert Escalation() == Escalation(raise_priority=False, reassign_to=None)


# Validation


def test_a_well_formed_set_is_accepted():
    complete = ticket_policy(
        "complete",
        1,
        conditions={"channel": {"phone_400"}, "contract_sla_level": {"premium"}, "customer_level": {"gold"}},
        targets={
            FIRST_REPLY: {p.value: OFFICE for p in Priority},
            state_metric("in_progress"): {"normal": Target(48 * HOUR, business=True, calendar="cn-office")},
            RESOLUTION: {"urgent": Target(24 * HOUR, business=False)},
        },
        pauses={state_metric("in_progress"): set(), RESOLUTION: {"waiting_on_customer", "pending_follow_up"}},
        warning=WarningRule(minutes=30),
        escalation=Escalation(
            on_warning=frozenset(),
            on_breach=frozenset({"supervisor", "managers"}),
            raise_priority=True,
            reassign_to="repairs-east",
        ),
    )
    to_the_pool = ticket_policy(
        "to-the-pool",
        2,
        conditions={"group_key": {"repairs-east"}},
        escalation=Escalation(reassign_to=REASSIGN_TO_POOL),
    )
    refunds_to_the_pool = SlaPolicy(
        "refunds", "Refunds", 1000, Subject.AFTER_SALES, escalation=Escalation(reassign_to=REASSIGN_TO_POOL)
    )

    check_policies([complete, to_the_pool, DEFAULT, refunds_to_the_pool], TERMS)
    check_policies([], TERMS)


@pytest.mark.parametrize(
    ("policy", "pointer"),
    [
        (ticket_policy("Bad Key", 1), "/key"),
        (
            ticket_policy("p", 1, targets={FIRST_REPLY: {"normal": Target(0, business=False)}}),
            "/targets/first_reply/normal/seconds",
        ),
        (
            ticket_policy("p", 1, targets={FIRST_REPLY: {"normal": Target(-5, business=False)}}),
            "/targets/first_reply/normal/seconds",
        ),
        (ticket_policy("p", 1, targets={"first_response": {"normal": OFFICE}}), "/targets/first_response"),
        (ticket_policy("p", 1, targets={REVIEW: {"normal": OFFICE}}), "/targets/review"),
        (ticket_policy("p", 1, targets={FIRST_REPLY: {}}), "/targets/first_reply"),
        (ticket_policy("p", 1, targets={FIRST_REPLY: {"critical": OFFICE}}), "/targets/first_reply/critical"),
        (
            ticket_policy("p", 1, targets={FIRST_REPLY: {"normal": Target(HOUR, business=True)}}),
            "/targets/first_reply/normal/calendar",
        ),
        (
            ticket_policy("p", 1, targets={FIRST_REPLY: {"normal": Target(HOUR, False, "cn-office")}}),
            "/targets/first_reply/normal/calendar",
        ),
        (
            ticket_policy("p", 1, targets={FIRST_REPLY: {"normal": Target(HOUR, True, "us-office")}}),
            "/targets/first_reply/normal/calendar",
        ),
        (ticket_policy("p", 1, targets={"state:on_hold": {"normal": OFFICE}}), "/targets/state:on_hold"),
        (ticket_policy("p", 1, targets={"state:closed": {"normal": OFFICE}}), "/targets/state:closed"),
        (ticket_policy("p", 1, conditions={"colour": {"red"}}), "/conditions/colour"),
        (ticket_policy("p", 1, conditions={"amount": {100}}), "/conditions/amount"),
        (ticket_policy("p", 1, conditions={"priority": {"critical"}}), "/conditions/priority"),
        (ticket_policy("p", 1, conditions={"vip": {"yes"}}), "/conditions/vip"),
        (ticket_policy("p", 1, conditions={"region": set()}), "/conditions/region"),
        (ticket_policy("p", 1, conditions={"category": {""}}), "/conditions/category"),
        (ticket_policy("p", 1, pauses={RESOLUTION: {"on_hold"}}), "/pauses/resolution"),
        (ticket_policy("p", 1, pauses={"sla": {"new"}}), "/pauses/sla"),
        (ticket_policy("p", 1, pauses={"state:in_progress": {"in_progress"}}), "/pauses/state:in_progress"),
        (ticket_policy("p", 1, warning=WarningRule(share=1.0)), "/warning/share"),
        (ticket_policy("p", 1, warning=WarningRule(share=0)), "/warning/share"),
        (ticket_policy("p", 1, warning=WarningRule(minutes=0)), "/warning/minutes"),
        (ticket_policy("p", 1, warning=WarningRule(share=0.5, minutes=10)), "/warning"),
        (ticket_policy("p", 1, escalation=Escalation(on_breach=frozenset({"ceo"}))), "/escalation/on_breach"),
        (ticket_policy("p", 1, escalation=Escalation(reassign_to="repairs-west")), "/escalation/reassign_to"),
        (ticket_policy("p", 1, escalation=Escalation(reassign_to="")), "/escalation/reassign_to"),
        (ticket_policy("p", 1, conditions={"group_key": {"repairs-west"}}), "/conditions/group_key"),
        (
            SlaPolicy("a", "A", 1, Subject.AFTER_SALES, escalation=Escalation(raise_priority=True)),
            "/escalation/raise_priority",
        ),
        (
            SlaPolicy("a", "A", 1, Subject.AFTER_SALES, escalation=Escalation(reassign_to="repairs-east")),
            "/escalation/reassign_to",
        ),
        (
            SlaPolicy("a", "A", 1, Subject.AFTER_SALES, targets={REVIEW: {"urgent": OFFICE}}),
            "/targets/review/urgent",
        ),
        (
            SlaPolicy("a", "A", 1, Subject.AFTER_SALES, conditions={"priority": {"high"}}),
            "/conditions/priority",
        ),
        (
            SlaPolicy(
                "a",
                "A",
                1,
                Subject.AFTER_SALES,
                targets={"state:under_review": {"normal": OFFICE}},
                pauses={REFUND_COMPLETION: {"waiting_on_customer"}},
            ),
            "/pauses/refund_completion",
        ),
    ],
)
def test_a_bad_policy_is_refused_naming_the_field(policy: SlaPolicy, pointer: str):
    assert [error.pointer for error in policy_errors(policy, TERMS)] == [pointer]


def test_the_set_reports_every_problem_at_once_under_each_policys_index():
    bad = ticket_policy(
        "bad",
        1,
        conditions={"colour": {"red"}},
        targets={FIRST_REPLY: {"normal": Target(0, business=False)}},
        warning=WarningRule(share=1.5),
    )

    assert set(refusals([DEFAULT, bad])) == {
        "/1/conditions/colour",
        "/1/targets/first_reply/normal/seconds",
        "/1/warning/share",
    }


def test_two_policies_may_not_share_a_key_or_a_subjects_position():
    again = ticket_policy("default", 1000)
    refused = refusals([VIP, DEFAULT, again])

    assert set(refused) == {"/2/key", "/2/position"}
    assert "/1" in refused["/2/key"]


def test_the_same_position_in_two_subjects_is_fine():
    check_policies([DEFAULT, SlaPolicy("refunds", "Refunds", DEFAULT.position, Subject.AFTER_SALES)], TERMS)


def test_a_subject_whose_last_policy_has_conditions_has_no_default():
    refused = refusals([VIP, URGENT, REFUNDS])

    assert list(refused) == ["/0/conditions"]
    assert "default" in refused["/0/conditions"]


def test_a_metric_with_a_slash_is_pointed_at_escaped():
    assert [e.pointer for e in policy_errors(ticket_policy("p", 1, targets={"a/b": {"normal": OFFICE}}), TERMS)] == [
        "/targets/a~1b"
    ]


def test_without_the_groups_known_any_group_key_may_be_named():
    terms = PolicyTerms(TERMS.states, calendars=TERMS.calendars)
    policy = ticket_policy(
        "p", 1, conditions={"group_key": {"anyone"}}, escalation=Escalation(reassign_to="repairs-west")
    )

    assert policy_errors(policy, terms) == []
