"""The ticket workflow (seeds 001, 003): 待受理 → 已分配 → 处理中 ⇄ 待客户反馈 → 待回访 → 已完成 / 已关闭."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from app.domain.errors import Conflict, DomainError, Forbidden, RateLimited
from app.domain.invariants import of_type
from app.domain.principal import ASSIGNEE_ROLES, CASE_HANDLERS, MANAGERS, ON_BEHALF_OF_CUSTOMER, Principal
from app.domain.tickets import (
    Resolution,
    SparePart,
    Ticket,
    TicketContext,
    acts_as_assignee_or_manager,
    below_max_escalation,
    can_take_more,
    has_assignee,
    has_no_assignee,
    not_just_urged,
    tasks_finished,
    urge_wait,
    within_reopen_window,
)
from app.domain.urging import urge
from app.workflows.engine import Guard, Label, Move, Payload, Refusal, State, Transition, Workflow
from app.workflows.standard_texts import in_language
from app.workflows.ticket_payloads import (
    AssignPayload,
    ClosePayload,
    CustomerReplyPayload,
    FollowUpPayload,
    OptionalReasonPayload,
    ReasonPayload,
    RequestInfoPayload,
    ResolvePayload,
    TransferPayload,
)


def _unsatisfied(_ctx: TicketContext, _principal: Principal, payload: object) -> str | None:
    if payload is None or getattr(payload, "outcome", None) == "unsatisfied":
        return None
    return "only an unsatisfied follow-up returns the ticket to work"


def _settled(_ctx: TicketContext, _principal: Principal, payload: object) -> str | None:
    if payload is None or getattr(payload, "outcome", None) != "unsatisfied":
        return None
    return "an unsatisfied follow-up returns the ticket to work"


def _to_agent(_ctx: TicketContext, _principal: Principal, payload: object) -> str | None:
    return None if payload is None or getattr(payload, "assignee", None) else "no assignee named"


def _to_pool(_ctx: TicketContext, _principal: Principal, payload: object) -> str | None:
    return None if payload is None or getattr(payload, "assignee", None) is None else "an assignee was named"


def _tasks_unfinished(ctx: TicketContext, refused: Conflict) -> DomainError:
    numbers = ", ".join(ctx.unfinished_tasks)
    return Conflict(
        f"Ticket {ctx.ticket.number} has tasks not yet approved or cancelled: {numbers}",
        code="tasks_unfinished",
        extra={**refused.extra, "unfinished_tasks": list(ctx.unfinished_tasks)},
    )


def _cannot_take(ctx: TicketContext, refused: Conflict) -> DomainError:
    if ctx.taker.problem is not None:
        return Forbidden(f"You cannot take tickets: {ctx.taker.problem}", code="not_an_active_agent")
    return Conflict(
        f"You already have {ctx.taker.full_at} open tickets, the most allowed",
        code="agent_at_capacity",
        extra=refused.extra,
    )


def _urged_too_soon(ctx: TicketContext, _refused: Conflict) -> DomainError:
    wait = urge_wait(ctx) or timedelta(seconds=1)
    return RateLimited(
        "You have just urged this; we are on it", retry_after_seconds=max(1, math.ceil(wait.total_seconds()))
    )


NAMED_REFUSALS: dict[Guard, Refusal] = {
    tasks_finished: _tasks_unfinished,
    can_take_more: _cannot_take,
    not_just_urged: _urged_too_soon,
}
"""Guards whose refusal a caller can act on get their own error (which tasks block, whose capacity, when to urge
again)."""


WORKING = ("assigned", "in_progress", "waiting_on_customer")
OPEN = ("new", *WORKING, "pending_follow_up")

TICKET = Workflow[TicketContext](
    name="ticket",
    title=Label("售后工单", "Service ticket"),
    initial="new",
    state_of=lambda ctx: ctx.ticket.status,
    is_own_customer=lambda ctx, principal: principal.customer_no == ctx.ticket.customer_no,
    refusals=NAMED_REFUSALS,
    states=[
        State(
            "new",
            Label("待受理", "New"),
            Label("已受理", "Received"),
            Label("您的服务请求已受理，我们会尽快安排专人处理。", "We have your request and will assign it shortly."),
        ),
        State(
            "assigned",
            Label("已分配", "Assigned"),
            Label("已受理", "Received"),
            Label("已为您安排专人处理，请耐心等待。", "A member of our team has taken on your request."),
        ),
        State(
            "in_progress",
            Label("处理中", "In progress"),
            Label("处理中", "In progress"),
            Label("工程师正在处理您的问题。", "We are working on your request."),
        ),
        State(
            "waiting_on_customer",
            Label("待客户反馈", "Waiting on customer"),
            Label("待您反馈", "Awaiting your reply"),
            Label("请补充信息，以便我们继续处理。", "Please reply so that we can continue."),
        ),
        State(
            "pending_follow_up",
            Label("待回访", "Pending follow-up"),
            Label("已解决", "Resolved"),
            Label("问题已处理，我们将对您进行回访。", "Your issue is resolved; we will check back with you."),
        ),
        State(
            "completed",
            Label("已完成", "Completed"),
            Label("已完成", "Completed"),
            Label("服务已完成，感谢您的耐心。", "Done. Thank you for your patience."),
            final=True,
        ),
        State(
            "closed",
            Label("已关闭", "Closed"),
            Label("已关闭", "Closed"),
            Label("该服务请求已关闭。", "This request is closed."),
            final=True,
        ),
        State(
            "cancelled",
            Label("已取消", "Cancelled"),
            Label("已取消", "Cancelled"),
            Label("您已取消该服务请求。", "You cancelled this request."),
            final=True,
        ),
    ],
    transitions=[
        Transition(
            "claim",
            ("new",),
            "assigned",
            ASSIGNEE_ROLES,
            guards=(can_take_more,),
            description="领取: take an unassigned ticket from the claim pool.",
        ),
        Transition(
            "assign",
            ("new", "assigned"),
            "assigned",
            MANAGERS,
            AssignPayload,
            public=False,
            description="派单: give the ticket to an agent.",
        ),
        Transition(
            "dispatch",
            ("new",),
            None,
            MANAGERS,
            OptionalReasonPayload,
            public=False,
            description="派单: the dispatch rules pick the agent now (assigned when one may take it; the decision is "
            "kept either way).",
        ),
        Transition(
            "transfer",
            WORKING,
            "assigned",
            CASE_HANDLERS,
            TransferPayload,
            (acts_as_assignee_or_manager, _to_agent),
            public=False,
            description="转派: hand over to another agent.",
        ),
        Transition(
            "transfer",
            WORKING,
            "new",
            CASE_HANDLERS,
            TransferPayload,
            (acts_as_assignee_or_manager, _to_pool),
            public=False,
            description="转派: hand over to a group's claim pool.",
        ),
        Transition(
            "start",
            ("assigned",),
            "in_progress",
            CASE_HANDLERS,
            guards=(acts_as_assignee_or_manager,),
            description="Start working on the ticket.",
        ),
        Transition(
            "request_info",
            ("in_progress",),
            "waiting_on_customer",
            CASE_HANDLERS,
            RequestInfoPayload,
            (acts_as_assignee_or_manager,),
            description="Ask the customer for information.",
        ),
        Transition(
            "customer_reply",
            ("waiting_on_customer",),
            "in_progress",
            ON_BEHALF_OF_CUSTOMER,
            CustomerReplyPayload,
            customer=True,
            description="The customer answers; work resumes.",
        ),
        Transition(
            "resolve",
            ("in_progress",),
            "pending_follow_up",
            CASE_HANDLERS,
            ResolvePayload,
            (acts_as_assignee_or_manager, tasks_finished),
            description="Record the solution, parts and costs (every task approved or cancelled first).",
        ),
        Transition(
            "follow_up",
            ("pending_follow_up",),
            "completed",
            CASE_HANDLERS,
            FollowUpPayload,
            (_settled,),
            description="回访: record the follow-up call; satisfied or unreachable completes.",
        ),
        Transition(
            "follow_up",
            ("pending_follow_up",),
            "in_progress",
            CASE_HANDLERS,
            FollowUpPayload,
            (_unsatisfied,),
            description="回访: the customer is not satisfied; work resumes.",
        ),
        Transition(
            "complete",
            ("pending_follow_up",),
            "completed",
            CASE_HANDLERS,
            customer=True,
            description="Confirm the resolution (the customer may confirm it).",
        ),
        Transition(
            "close",
            (*OPEN, "completed"),
            "closed",
            CASE_HANDLERS,
            ClosePayload,
            description="Close, e.g. as a duplicate or invalid.",
        ),
        Transition(
            "reopen",
            ("completed", "closed"),
            "assigned",
            CASE_HANDLERS,
            ReasonPayload,
            (within_reopen_window, has_assignee),
            customer=True,
            description="Reopen to the same agent.",
        ),
        Transition(
            "reopen",
            ("completed", "closed"),
            "new",
            CASE_HANDLERS,
            ReasonPayload,
            (within_reopen_window, has_no_assignee),
            customer=True,
            description="Reopen into the pool.",
        ),
        Transition(
            "cancel",
            ("new", "assigned"),
            "cancelled",
            ON_BEHALF_OF_CUSTOMER,
            OptionalReasonPayload,
            customer=True,
            description="Cancel before work starts.",
        ),
        Transition(
            "escalate",
            OPEN,
            None,
            CASE_HANDLERS,
            ReasonPayload,
            (below_max_escalation,),
            public=False,
            description="客诉升级: raise the escalation level.",
        ),
        Transition(
            "urge",
            ("new", *WORKING),
            None,
            ON_BEHALF_OF_CUSTOMER,
            guards=(not_just_urged,),
            customer=True,
            description="催单: the customer asks us to hurry.",
        ),
    ],
)


def _claim(ctx: TicketContext, principal: Principal, _payload: Payload) -> dict[str, object]:
    return {"assignee": principal.subject}


def _assign(_ctx: TicketContext, _principal: Principal, payload: Payload) -> dict[str, object]:
    sent = of_type(payload, AssignPayload)
    return _handover(sent.assignee, sent.group)


def _transfer(_ctx: TicketContext, _principal: Principal, payload: Payload) -> dict[str, object]:
    """To another agent, or (no assignee named) back to a group's claim pool."""
    sent = of_type(payload, TransferPayload)
    return _handover(sent.assignee, sent.group)


def _handover(assignee: str | None, group: str | None) -> dict[str, object]:
    return {"assignee": assignee} if group is None else {"assignee": assignee, "group_key": group}


def _resolve(ctx: TicketContext, _principal: Principal, payload: Payload) -> dict[str, object]:
    sent = of_type(payload, ResolvePayload)
    parts = tuple(SparePart(name=p.name, quantity=p.quantity, sku=p.sku) for p in sent.spare_parts)
    resolution = Resolution(
        sent.solution, parts, sent.labour_cost, sent.material_cost, sent.currency, sent.internal_note
    )
    return {"resolution": resolution, "resolved_at": ctx.now}


def _follow_up(_ctx: TicketContext, _principal: Principal, payload: Payload) -> dict[str, object]:
    sent = of_type(payload, FollowUpPayload)
    return {"follow_up_outcome": sent.outcome}


def _close(_ctx: TicketContext, _principal: Principal, payload: Payload) -> dict[str, object]:
    sent = of_type(payload, ClosePayload)
    return {"close_reason": sent.reason}


def _reopen(_ctx: TicketContext, _principal: Principal, _payload: Payload) -> dict[str, object]:
    return {"finished_at": None, "close_reason": None, "follow_up_outcome": None}


def _escalate(ctx: TicketContext, _principal: Principal, _payload: Payload) -> dict[str, object]:
    return {"escalation_level": ctx.ticket.escalation_level + 1}


def _urge(ctx: TicketContext, _principal: Principal, _payload: Payload) -> dict[str, object]:
    ticket = ctx.ticket
    urged = urge(ticket.urge_count, ticket.last_urged_at, ticket.escalation_level, ctx.now, ctx.policy.urge)
    return {"urge_count": urged.count, "last_urged_at": urged.at, "escalation_level": urged.escalation_level}


EFFECTS: dict[str, Callable[[TicketContext, Principal, Payload], dict[str, object]]] = {
    "claim": _claim,
    "assign": _assign,
    "transfer": _transfer,
    "resolve": _resolve,
    "follow_up": _follow_up,
    "close": _close,
    "reopen": _reopen,
    "escalate": _escalate,
    "urge": _urge,
}


def apply(ctx: TicketContext, principal: Principal, move: Move) -> Ticket:
    """The ticket after `move`: new state, the action's own changes, when it finished, next version."""
    effect = EFFECTS.get(move.transition.action)
    changes = effect(ctx, principal, move.payload) if effect else {}
    if TICKET.state(move.dest).final and not TICKET.state(move.source).final:
        changes["finished_at"] = ctx.now  # completed, closed or cancelled: starts the reopen window
    return replace(ctx.ticket, **changes, status=move.dest, version=ctx.ticket.version + 1, updated_at=ctx.now)


def solution_text(resolution: Resolution, language: str) -> str:
    """The solution as the reader sees it: a standard text the service wrote, in the reader's language."""
    return in_language(resolution.solution, language)
