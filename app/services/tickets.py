"""Ticket use cases: intake, reads scoped to the caller, edits, workflow actions, comments, timeline, queues."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from typing import Any
from uuid import UUID

from app.domain.attachment_links import SubjectType
from app.domain.clock import Clock, rfc3339
from app.domain.customers import CustomerLevel
from app.domain.dispatch import Decision, DecisionRecord, Trigger
from app.domain.errors import Conflict, FieldError, InvalidInput, NotFound
from app.domain.events import OutboxEvent, TimelineEntry
from app.domain.ids import new_id
from app.domain.intake import IntakeFacts
from app.domain.invariants import present
from app.domain.pagination import Page, PageRequest
from app.domain.preconditions import Precondition
from app.domain.principal import ASSIGNEE_ROLES, STAFF_ROLES, Principal
from app.domain.risk import CustomerRisk
from app.domain.risk_reasons import RiskReason
from app.domain.sla import TicketChange
from app.domain.sla_clock import ClockEvent
from app.domain.tickets import (
    HELD_STATES,
    Channel,
    Contact,
    GuardedTicket,
    PoolScope,
    PoolStats,
    Priority,
    Taker,
    Ticket,
    TicketContext,
    TicketFilter,
    TicketPolicy,
    TicketSort,
    TicketType,
    is_ticket_number,
    ticket_number,
    warranty_end,
    warranty_status_on,
)
from app.domain.unit_of_work import UnitOfWork, UnitOfWorkFactory
from app.services.attachment_links import Attached, Attaching, AttachmentLinker
from app.services.dispatch import Dispatcher, Placement, summary
from app.services.history import Change, record_ticket_change
from app.services.risk import RiskService, flagged_event, notify_managers
from app.services.sla import MATCHED_FIELDS, SlaService, SubjectSla
from app.services.ticket_notifications import notify_of_action
from app.workflows.engine import AvailableAction
from app.workflows.ticket import TICKET, apply

EDITABLE = frozenset(
    {"title", "description", "priority", "category", "tags", "expected_by", "region", "contact", "group_key"}
)


@dataclass(frozen=True, slots=True)
class TicketDraft:
    """What intake sends, named as the ticket's own fields; `customer_no` may be omitted by a customer (it is
    theirs)."""

    channel: Channel
    type: TicketType
    title: str
    description: str
    customer_no: str | None = None
    priority: Priority = Priority.NORMAL
    category: str | None = None
    tags: tuple[str, ...] = ()
    order_no: str | None = None
    sku: str | None = None
    serial_no: str | None = None
    purchase_date: date | None = None
    fault_description: str | None = None
    expected_by: datetime | None = None
    contact: Contact = field(default_factory=Contact)
    region: str | None = None
    attachment_ids: tuple[UUID, ...] = ()
    group_key: str | None = None


@dataclass(frozen=True, slots=True)
class TicketView:
    """A ticket with the actions this caller may take on it now and its SLA clocks."""

    ticket: Ticket
    available_actions: list[AvailableAction]
    sla: SubjectSla


def ticket_not_found(ref: UUID | str) -> NotFound:
    return NotFound(f"No ticket '{ref}'", code="ticket_not_found")


REPLY_ACTIONS = frozenset({"request_info", "resolve"})
"""Actions whose text is written to the customer (the question asked, the solution): taken by staff, they are a
public agent reply to the SLA clock. Remarks on other actions annotate a status change and are not replies."""
CUSTOMER_MESSAGES = frozenset({"customer_reply", "urge"})
"""Actions that are the customer speaking (an answer, a 催单), which owe them a reply."""
SERVE_FIRST = 2
"""Waiting tickets an intake dispatches before itself when it finds them waiting while an agent is free: more than
one, so that intakes drain the backlog rather than only take turns in it."""


SIMULATED_NUMBER = "T-0000-000000"
"""The number a simulated ticket carries: none is drawn for a ticket that is not taken in."""

OnFinished = Callable[[UnitOfWork, Ticket, Principal, datetime], Awaitable[None]]
"""Called in the transaction that closes or cancels a ticket (its open tasks are cancelled with it)."""


class TicketService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        policy: TicketPolicy,
        sla: SlaService,
        risk: RiskService,
        dispatcher: Dispatcher,
        linker: AttachmentLinker,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._policy = policy
        self._sla = sla
        self._risk = risk
        self._dispatcher = dispatcher
        self._linker = linker
        self._on_finished: list[OnFinished] = []

    def when_finished(self, hook: OnFinished) -> None:
        self._on_finished.append(hook)

    async def _views(
        self,
        uow: UnitOfWork,
        tickets: Sequence[Ticket],
        principal: Principal,
        now: datetime,
        *,
        new: bool = False,
        known: Mapping[UUID, tuple[str, ...]] | None = None,
        logs: Mapping[UUID, Sequence[ClockEvent]] | None = None,
    ) -> list[TicketView]:
        """`logs`: the clock logs already in hand (just written); the others are read in one query per page."""
        contexts = await self.contexts_in(uow, tickets, principal, now, new=new, known=known)
        slas = await self._sla.ticket_slas(uow, tickets, now, logs or {})
        return [TicketView(ctx.ticket, TICKET.available(ctx, principal), slas[ctx.ticket.id]) for ctx in contexts]

    async def _guarded_views(
        self, uow: UnitOfWork, found: Sequence[GuardedTicket], principal: Principal
    ) -> list[TicketView]:
        """A page of tickets read with their unfinished tasks and clock logs (`list`, `pool`)."""
        known = {g.ticket.id: g.unfinished_tasks for g in found}
        logs = {g.ticket.id: g.clock_log for g in found}
        tickets = [g.ticket for g in found]
        return await self._views(uow, tickets, principal, self._clock.now(), known=known, logs=logs)

    async def _view(
        self,
        uow: UnitOfWork,
        ticket: Ticket,
        principal: Principal,
        now: datetime,
        unfinished: tuple[str, ...],
        log: Sequence[ClockEvent] | None = None,
    ) -> TicketView:
        """One ticket whose unfinished tasks were read with it (`get_guarded`)."""
        logs = None if log is None else {ticket.id: log}
        return (await self._views(uow, [ticket], principal, now, known={ticket.id: unfinished}, logs=logs))[0]

    async def contexts_in(
        self,
        uow: UnitOfWork,
        tickets: Sequence[Ticket],
        principal: Principal,
        now: datetime,
        *,
        new: bool = False,
        known: Mapping[UUID, tuple[str, ...]] | None = None,
    ) -> list[TicketContext]:
        """What the guards see for each ticket, loaded the same way for a single read, a page and an action: the
        unfinished tasks `known` already (read with the ticket), else one query per page (none for tickets just
        created: `new`), and the caller's own agent record once when some ticket could be claimed."""
        open_ids = [] if new else [t.id for t in tickets if t.is_open]
        if known is not None:
            unfinished = {ticket_id: known.get(ticket_id, ()) for ticket_id in open_ids}
        else:
            unfinished = await uow.tasks.unfinished_by_ticket(open_ids)
        claimable = principal.has_any(ASSIGNEE_ROLES) and any(t.status == "new" for t in tickets)
        taker = await _taker(uow, principal.subject) if claimable else Taker()
        return [TicketContext(t, now, self._policy, unfinished.get(t.id, ()), taker) for t in tickets]

    async def create(self, principal: Principal, draft: TicketDraft) -> TicketView:
        now = self._clock.now()
        draft = replace(draft, customer_no=_intake_customer(principal, draft))
        async with self._uow.write() as uow:
            ticket, log = await self._take_in(uow, principal, draft, now)
            [view] = await self._views(uow, [ticket], principal, now, new=True, logs={ticket.id: log})
            await uow.commit()
        return view

    async def open_in(self, uow: UnitOfWork, principal: Principal, draft: TicketDraft, now: datetime) -> Ticket:
        """A ticket taken in within the caller's transaction, `draft` naming its customer (the low-score loop opens
        its 差评回访 ticket for an after-sales order this way)."""
        ticket, _log = await self._take_in(uow, principal, draft, now)
        return ticket

    async def _take_in(
        self, uow: UnitOfWork, principal: Principal, draft: TicketDraft, now: datetime
    ) -> tuple[Ticket, list[ClockEvent]]:
        """Intake checked, the risk flag raised, the ticket dispatched and stored with its timeline entry, events and
        SLA clocks; answers the ticket and its clock log."""
        ticket, reasons = await self._intake(uow, principal, draft, now)
        attached = await self._linker.check(
            uow, principal, Attaching(draft.attachment_ids), customer_no=ticket.customer_no
        )
        ticket = replace(ticket, attachments=attached.snapshots())
        placement = await self._dispatcher.place(uow, ticket, Trigger.INTAKE, now)
        if placement.serve_first:  # tickets wait for the group while an agent is free: they go first, then this one
            await self.serve_backlog_in(uow, [placement.ticket.group_key or ""], now, limit=SERVE_FIRST)
            placement = await self._dispatcher.place(uow, ticket, Trigger.INTAKE, now, holding=True)
        ticket = placement.ticket
        await uow.tickets.add(ticket)
        # The intake decision rides on the ticket's first entry (and its ticket.created event names the assignee).
        decision = placement.decision
        payload = {"dispatch": summary(decision, Trigger.INTAKE)} if decision is not None else {}
        created = Change("created", "create", to_status=ticket.status, payload=payload)
        also = [flagged_event(ticket, reasons, principal.subject, now)] if reasons else []
        await _record(uow, ticket, principal, now, created, also)
        await self._linker.link(
            uow, attached, (SubjectType.TICKET, ticket.id), public=True, actor=principal.subject, now=now
        )
        await self._dispatcher.record(uow, placement, Trigger.INTAKE, now, on_timeline=False)
        if reasons:
            await notify_managers(uow, ticket, reasons, principal.subject, now)
        change = TicketChange(at=now, status=ticket.status, priority=ticket.priority, created=True)
        clocks = await self._sla.record_ticket(uow, ticket, change, [])
        return ticket, clocks.log

    async def _intake(
        self, uow: UnitOfWork, principal: Principal, draft: TicketDraft, now: datetime, number: str | None = None
    ) -> tuple[Ticket, tuple[RiskReason, ...]]:
        """The ticket `draft` becomes (checked, nothing written but its number drawn, unless `number` is given),
        flagged with the risk reasons intake finds."""
        customer_no = present(draft.customer_no, "an intake's customer number")
        rules = await self._risk.rules(uow)
        complaint = draft.type is TicketType.COMPLAINT
        since, needed = rules.earlier_complaints_asked(now, complaint)
        facts, (business_line, warranty_until, purchase_date) = await _check_intake(
            uow, customer_no, draft, now, (since, needed), draw_number=number is None
        )
        if number is None:
            number = ticket_number(now.year, facts.drawn_number or await uow.tickets.next_sequence())
        level = CustomerLevel(facts.customer_level) if facts.customer_level else None
        customer = CustomerRisk(complaint, level, facts.earlier_complaints if since is not None else None)
        text = "\n".join(filter(None, (draft.title, draft.description, draft.fault_description)))
        reasons = rules.at_intake(text, customer, now)
        ticket = Ticket(
            **{f.name: getattr(draft, f.name) for f in fields(draft) if f.name != "attachment_ids"}
            | {
                "id": new_id(),
                "number": number,
                "customer_no": customer_no,
                "status": TICKET.initial,
                "created_by": principal.subject,
                "created_at": now,
                "updated_at": now,
                "purchase_date": purchase_date,
                "warranty_status": warranty_status_on(warranty_until, now.date()),
                "warranty_until": warranty_until,
                "business_line": business_line,
            }
        )
        return (rules.flagged(ticket, reasons, now) if reasons else ticket), tuple(reasons)

    async def simulate(
        self, principal: Principal, ref: UUID | None, draft: TicketDraft | None
    ) -> tuple[Decision, datetime]:
        """派单试算: the decision dispatch would take now for an existing ticket (`ref`, as it is) or one intake would
        take in (`draft`, checked as intake checks it), assigning nobody and storing nothing."""
        now = self._clock.now()
        async with self._uow.read() as uow:
            if ref is not None:
                ticket = await _visible(uow, principal, ref)
            else:
                try:
                    sent = present(draft, "a simulated ticket")
                    sent = replace(sent, customer_no=_intake_customer(principal, sent))
                    ticket, _reasons = await self._intake(uow, principal, sent, now, SIMULATED_NUMBER)
                except InvalidInput as refused:  # the ticket is sent as the body's `ticket`: point there
                    refused.errors = [replace(e, pointer="/ticket" + e.pointer) for e in refused.errors]
                    raise
            return await self._dispatcher.simulate(uow, ticket, now), now

    async def decisions(self, principal: Principal, ref: UUID | str, page: PageRequest) -> Page[DecisionRecord]:
        """The ticket's dispatch decisions, newest first."""
        async with self._uow.read() as uow:
            ticket = await _visible(uow, principal, ref)
            return await uow.dispatch.decisions(ticket.id, page)

    async def get(self, principal: Principal, ref: UUID | str) -> TicketView:
        async with self._uow.read() as uow:
            found = await _visible_guarded(uow, principal, ref)
            now = self._clock.now()
            return await self._view(uow, found.ticket, principal, now, found.unfinished_tasks, found.clock_log)

    async def list(
        self, principal: Principal, where: TicketFilter, sort: TicketSort, page: PageRequest
    ) -> Page[TicketView]:
        """Customers always list only their own tickets, whatever filter they send, and never by the risk flag (it is
        internal)."""
        where = replace(where, business_lines=principal.business_line_scope)
        if principal.is_customer and where.high_risk is not None:
            raise InvalidInput(
                "The risk flag is for staff",
                code="validation_failed",
                errors=[FieldError("high_risk", "not a filter of a customer's list", location="query")],
            )
        if principal.is_customer:
            where = replace(where, customer_no=principal.customer_no)
        async with self._uow.read() as uow:
            found = await uow.tickets.list(where, sort, page)
            return Page(await self._guarded_views(uow, found.items, principal), found.next_key)

    async def update(
        self, principal: Principal, ref: UUID | str, changes: dict[str, Any], precondition: Precondition
    ) -> TicketView:
        """Edit the fields that are not workflow state; each change is recorded on the (internal) timeline. A change
        of a field SLA policies match on re-matches the ticket; the entry names the policy when that changes it."""
        async with self._uow.write() as uow:
            found = await _visible_guarded(uow, principal, ref, for_update=True)
            ticket, unfinished = found.ticket, found.unfinished_tasks
            precondition.check(ticket.version)
            if not ticket.is_open:
                raise Conflict(
                    f"Ticket {ticket.number} is {ticket.status}; it can no longer be edited",
                    code="ticket_finished",
                    extra={"current_state": ticket.status},
                )
            if changes.get("group_key") is not None:
                await _check_group(uow, changes["group_key"], "/group_key")
            diff = {k: v for k, v in changes.items() if k in EDITABLE and getattr(ticket, k) != v}
            now = self._clock.now()
            if not diff:  # nothing written: answered from what was read, as a GET is
                return await self._view(uow, ticket, principal, now, unfinished, found.clock_log)
            before = ticket
            ticket = replace(ticket, **diff, version=ticket.version + 1, updated_at=now)
            payload = {k: {"from": _plain(getattr(before, k)), "to": _plain(v)} for k, v in diff.items()}
            log = _whole(found.clock_log, await uow.tickets.update(ticket, before))
            change = TicketChange(at=now, status=ticket.status, priority=ticket.priority)
            rematch = bool(set(diff) & set(MATCHED_FIELDS))
            clocks = await self._sla.record_ticket(uow, ticket, change, log, rematch=rematch)
            log = clocks.log
            if clocks.policy_after != clocks.policy_before:
                payload["sla_policy"] = {"from": clocks.policy_before, "to": clocks.policy_after}
            await _record(uow, ticket, principal, now, Change("updated", "update", payload=payload, public=False))
            view = await self._view(uow, ticket, principal, now, unfinished, log)
            await uow.commit()
        return view

    async def act(
        self, principal: Principal, ref: UUID | str, action: str, body: dict[str, Any], precondition: Precondition
    ) -> TicketView:
        async with self._uow.write() as uow:
            found = await _visible_guarded(uow, principal, ref, for_update=True)
            precondition.check(found.ticket.version)
            now = self._clock.now()
            after, log = await self._act_in(
                uow, found.ticket, principal, action, body, now, found.unfinished_tasks, found.clock_log
            )
            # A ticket action changes no task, except the hooks of a finished ticket, whose tasks no guard reads.
            view = await self._view(uow, after, principal, now, found.unfinished_tasks, log)
            await uow.commit()
        return view

    async def act_in(
        self,
        uow: UnitOfWork,
        ticket: Ticket,
        principal: Principal,
        action: str,
        body: dict[str, Any],
        now: datetime,
        unfinished: tuple[str, ...] | None = None,
    ) -> Ticket:
        """One action on a ticket already locked in `uow` (tasks assign and resolve their ticket this way too), with
        its `unfinished` tasks when they were read with it."""
        after, _log = await self._act_in(uow, ticket, principal, action, body, now, unfinished, None)
        return after

    async def _act_in(
        self,
        uow: UnitOfWork,
        ticket: Ticket,
        principal: Principal,
        action: str,
        body: dict[str, Any],
        now: datetime,
        unfinished: tuple[str, ...] | None,
        log_: Sequence[ClockEvent] | None,
    ) -> tuple[Ticket, list[ClockEvent]]:
        """`act_in`, with the clock `log_` read with the ticket (None: read it here), answering the ticket's clock
        log as the action left it too."""
        known = None if unfinished is None else {ticket.id: unfinished}
        [ctx] = await self.contexts_in(uow, [ticket], principal, now, known=known)
        move = TICKET.decide(ctx, principal, action, body)
        after = apply(ctx, principal, move)
        reasons: tuple[RiskReason, ...] = ()
        if action in CUSTOMER_MESSAGES:
            rules = await self._risk.rules(uow)
            reasons = rules.in_message(move.payload.remark, after, now)
            after = rules.flagged(after, reasons, now) if reasons else after
        named = getattr(move.payload, "assignee", None)
        if named is not None and named != ticket.assignee:
            await _check_assignee(uow, named, "/assignee")
        if after.group_key != ticket.group_key and after.group_key is not None:
            await _check_group(uow, after.group_key, "/group")
        trigger = _dispatch_trigger(action, after)
        placement = await self._dispatcher.place(uow, after, trigger, now) if trigger else None
        if placement is not None:
            after = placement.ticket
        elif after.assignee is not None and after.assignee != ticket.assignee:
            await self._dispatcher.take(uow, after.assignee)
        elif after.assignee is not None and _holds(after) and not _holds(ticket):
            await self._dispatcher.given_back(uow, after.assignee)
        log_ = _whole(log_, await uow.tickets.update(after, ticket))
        fields_sent = move.payload.model_dump(mode="json", exclude={"remark"}, exclude_none=True)
        change = Change(
            "action", action, ticket.status, after.status, move.payload.remark, fields_sent, move.transition.public
        )
        await _record(uow, after, principal, now, change)
        if placement is not None and trigger is not None:
            # A transfer tells its new assignee itself (notify_of_action); the decision tells the others.
            told = action == "transfer"
            await self._dispatcher.record(uow, placement, trigger, now, notify_winner=not told)
        if reasons:
            await _record_flag(uow, ticket, after, reasons, principal, now)
        staff = _is_staff(principal)
        moved = after.status != ticket.status
        clock_change = TicketChange(
            at=now,
            status=after.status,
            priority=after.priority,
            previous_status=ticket.status if moved else None,
            agent_replied=staff and action in REPLY_ACTIONS,
            customer_messaged=action in CUSTOMER_MESSAGES,
        )
        rematch = any(getattr(after, name) != getattr(ticket, name) for name in MATCHED_FIELDS)
        clocks = await self._sla.record_ticket(uow, after, clock_change, log_, rematch=rematch)
        await notify_of_action(uow, ticket, after, action, principal, now)
        if ticket.is_open and not after.is_open:
            for hook in self._on_finished:
                await hook(uow, after, principal, now)
        if ticket.assignee is not None and _holds(ticket) and not (_holds(after) and after.assignee == ticket.assignee):
            await self.serve_backlog_in(uow, await _groups_of(uow, ticket.assignee), now, limit=1)
        return after, clocks.log

    async def redispatch_in(self, uow: UnitOfWork, ticket: Ticket, trigger: Trigger, now: datetime) -> Ticket | None:
        """A ticket locked in `uow` put through dispatch again: off its assignee (a rebalance) into its group's pool,
        then to whom the rules pick, written with its timeline entry and clocks. None: it was waiting in the backlog
        and still waits (nothing written, no decision stored: the backlog is retried often)."""
        return (await self._redispatch(uow, ticket, trigger, now))[0]

    async def _redispatch(
        self, uow: UnitOfWork, ticket: Ticket, trigger: Trigger, now: datetime
    ) -> tuple[Ticket | None, Placement]:
        pooled = replace(ticket, assignee=None, status=TICKET.initial, version=ticket.version + 1, updated_at=now)
        placement = await self._dispatcher.place(uow, pooled, trigger, now)
        if not placement.assigned and trigger is Trigger.BACKLOG:
            return None, placement
        after = placement.ticket
        await uow.tickets.update(after, ticket)
        await self._dispatcher.record(uow, placement, trigger, now, from_status=ticket.status)
        moved = after.status != ticket.status
        change = TicketChange(
            at=now, status=after.status, priority=after.priority, previous_status=ticket.status if moved else None
        )
        rematch = any(getattr(after, name) != getattr(ticket, name) for name in MATCHED_FIELDS)
        await self._sla.record_ticket(uow, after, change, rematch=rematch)
        return after, placement

    async def serve_backlog_in(
        self, uow: UnitOfWork, groups: Sequence[str] | None, now: datetime, *, limit: int
    ) -> int:
        """Backlog first: the most urgent, then longest waiting, tickets of `groups` (None: all) dispatched as
        capacity frees; answers how many were assigned."""
        if groups is not None and not groups:
            return 0
        served, passed = 0, set()
        for ticket_id in await uow.dispatch.backlog(groups, limit):
            ticket = await uow.tickets.get(ticket_id)
            if ticket is None or ticket.group_key in passed:
                continue
            after, placement = await self._redispatch(uow, ticket, Trigger.BACKLOG, now)
            served += after is not None
            if after is None and placement.contended:
                passed.add(ticket.group_key)  # its agents were being given other work: the next would pass it by
        return served

    async def comment(
        self, principal: Principal, ref: UUID | str, body: str, *, public: bool, attachments: tuple[UUID, ...]
    ) -> TimelineEntry:
        """内部备注 (internal) or a public reply; customers only ever post public ones. A public comment by staff is an
        agent reply to the SLA clock; one by the customer (or an integration relaying them) is a customer message.
        Either is an update of the ticket, which restarts its idle reminders. Its files are linked as the comment is:
        an internal note's never reach the customer."""
        if principal.is_customer and not public:
            raise InvalidInput(
                "Customers post public comments only",
                code="validation_failed",
                errors=[FieldError("/visibility", "customers cannot post internal comments")],
            )
        async with self._uow.write() as uow:
            # A comment moves the clocks: the ticket is locked so that its log is appended to in turn.
            ticket = await _visible(uow, principal, ref, for_update=True)
            now = self._clock.now()
            subject = (SubjectType.TICKET, ticket.id)
            attached: Attached = await self._linker.check(
                uow, principal, Attaching(attachments), customer_no=ticket.customer_no, subject=subject
            )
            payload = {"attachments": attached.as_json()} if attached.files else {}
            change = Change("comment", "comment", remark=body, payload=payload, public=public)
            entry = await _record(uow, ticket, principal, now, change)
            await self._linker.link(
                uow, attached, subject, public=public, actor=principal.subject, now=now, entry_id=entry.id
            )
            staff = _is_staff(principal)
            before = ticket
            if public and not staff:  # the customer speaking: 投诉到 12315 in a reply flags the ticket then
                rules = await self._risk.rules(uow)
                reasons = rules.in_message(body, ticket, now)
                if reasons:
                    ticket = replace(rules.flagged(ticket, reasons, now), version=ticket.version + 1, updated_at=now)
                    await uow.tickets.update(ticket, before)
                    await _record_flag(uow, before, ticket, reasons, principal, now)
            said = TicketChange(
                now,
                ticket.status,
                ticket.priority,
                agent_replied=public and staff,  # an answer to the customer
                customer_messaged=public and not staff,  # or the customer speaking
            )
            rematch = any(getattr(ticket, name) != getattr(before, name) for name in MATCHED_FIELDS)
            await self._sla.record_ticket(uow, ticket, said, rematch=rematch)
            await uow.commit()
        return entry

    async def timeline(self, principal: Principal, ref: UUID | str, page: PageRequest) -> Page[TimelineEntry]:
        async with self._uow.read() as uow:
            ticket = await _visible(uow, principal, ref)
            return await uow.timeline.list(ticket.id, page, public_only=principal.is_customer)

    async def pool(self, principal: Principal, page: PageRequest) -> tuple[Page[TicketView], PoolStats]:
        """待领取池: unassigned tickets of the caller's groups and business lines, oldest first."""
        async with self._uow.read() as uow:
            scope = await _pool_scope(uow, principal)
            found = await uow.tickets.pool(scope, page)
            stats = await uow.tickets.pool_stats(scope)
            views = await self._guarded_views(uow, found.items, principal)
        return Page(views, found.next_key), stats

    async def mine(self, principal: Principal, page: PageRequest) -> Page[TicketView]:
        where = TicketFilter(
            assignee=principal.subject, statuses=("assigned", "in_progress", "waiting_on_customer", "pending_follow_up")
        )
        return await self.list(principal, where, TicketSort.UPDATED, page)


def _dispatch_trigger(action: str, after: Ticket) -> Trigger | None:
    """Dispatch runs on a manager's `dispatch`, and when a transfer or a reopen leaves the ticket in a pool."""
    if action == "dispatch":
        return Trigger.ON_DEMAND
    if after.status != "new" or after.assignee is not None:
        return None
    return {"transfer": Trigger.TRANSFER, "reopen": Trigger.REOPEN}.get(action)


def _holds(ticket: Ticket) -> bool:
    """The ticket counts against its assignee's capacity."""
    return ticket.status in HELD_STATES


async def _groups_of(uow: UnitOfWork, user_id: str) -> tuple[str, ...]:
    agent = await uow.agents.get(user_id)
    return agent.data.groups if agent else ()


def _is_staff(principal: Principal) -> bool:
    """Our own people; customers and the integrations that relay them (chatbots) are the customer's side."""
    return not principal.is_customer and principal.has_any(STAFF_ROLES)


def _intake_customer(principal: Principal, draft: TicketDraft) -> str:
    if principal.is_customer:
        if draft.customer_no not in (None, principal.customer_no):
            raise InvalidInput(
                "Customers open tickets for themselves only",
                code="validation_failed",
                errors=[FieldError("/customer_no", "not your customer number")],
            )
        return present(principal.customer_no, "a customer's customer number")
    if draft.customer_no is None:
        raise InvalidInput(
            "Say whose ticket this is",
            code="validation_failed",
            errors=[FieldError("/customer_no", "required when not calling as the customer")],
        )
    return draft.customer_no


async def _check_intake(
    uow: UnitOfWork,
    customer_no: str,
    draft: TicketDraft,
    now: datetime,
    complaints: tuple[datetime | None, int],
    *,
    draw_number: bool = False,
) -> tuple[IntakeFacts, tuple[str | None, date | None, date | None]]:
    """The facts read (with the customer's earlier `complaints` asked: since when, how many; and the next ticket
    number drawn where the database can), and the (business line, warranty end, purchase date) of a valid intake;
    every bad reference named in one 422."""
    errors: list[FieldError] = []
    facts = await uow.intake.facts(
        customer_no, draft.order_no, draft.sku, draft.group_key, *complaints, draw_number=draw_number
    )
    if not facts.customer_known:
        errors.append(FieldError("/customer_no", f"unknown customer '{customer_no}'"))
    purchase_date = draft.purchase_date
    if purchase_date is not None and purchase_date > now.date():
        errors.append(FieldError("/purchase_date", "the purchase date is in the future"))
    if draft.expected_by is not None and draft.expected_by < now:
        errors.append(FieldError("/expected_by", "the expected handling time has passed"))
    if draft.order_no is not None:
        if facts.order_customer_no != customer_no or facts.order_placed_at is None:
            errors.append(FieldError("/order_no", "no such order for this customer"))
        else:
            purchase_date = purchase_date or facts.order_placed_at.date()
            if draft.sku is not None and not facts.sku_on_order:
                errors.append(FieldError("/sku", f"'{draft.sku}' is not on order {draft.order_no}"))
    business_line, warranty_until = None, None
    if draft.sku is not None:
        if not facts.product_known or facts.warranty_months is None:
            errors.append(FieldError("/sku", f"unknown product '{draft.sku}'"))
        else:
            business_line = facts.product_line
            warranty_until = warranty_end(purchase_date, facts.warranty_months)
    if draft.group_key is not None and not facts.group_known:
        errors.append(FieldError("/group_key", f"unknown group '{draft.group_key}'"))
    if errors:
        raise InvalidInput("The ticket cannot be taken in as sent", code="invalid_ticket", errors=errors)
    return facts, (business_line, warranty_until, purchase_date)


async def _taker(uow: UnitOfWork, user_id: str) -> Taker:
    """Whether `user_id` can take one more ticket on: a registered, active agent below their open-ticket limit."""
    found = await uow.agents.workload(user_id)
    if found is None:
        return Taker(problem="not a registered agent")
    agent, held = found
    if not agent.data.active:
        return Taker(problem="inactive")
    if not agent.data.roles & ASSIGNEE_ROLES:
        return Taker(problem="lacks the agent role")
    limit = agent.data.max_open_tickets
    if limit is not None and held is not None and held >= limit:
        return Taker(full_at=limit)
    return Taker()


async def _check_assignee(uow: UnitOfWork, user_id: str, pointer: str) -> None:
    """The agent a caller names (assign, transfer) must be able to take the ticket on: the claim guard's rule for
    someone else, known only once the body names them."""
    taker = await _taker(uow, user_id)
    if taker.problem is not None:
        raise InvalidInput(
            f"'{user_id}' cannot take tickets: {taker.problem}",
            code="invalid_assignee",
            errors=[FieldError(pointer, taker.problem)],
        )
    if taker.full_at is not None:
        raise Conflict(
            f"'{user_id}' already has {taker.full_at} open tickets, the most allowed", code="agent_at_capacity"
        )


async def _check_group(uow: UnitOfWork, key: str, pointer: str) -> None:
    if not await uow.groups.existing_keys({key}):
        raise InvalidInput(
            f"No group '{key}'", code="unknown_reference", errors=[FieldError(pointer, f"unknown group '{key}'")]
        )


async def _visible_guarded(
    uow: UnitOfWork, principal: Principal, ref: UUID | str, *, for_update: bool = False
) -> GuardedTicket:
    """`_visible`, with the ticket's unfinished tasks and clock log read in the same statement."""
    if isinstance(ref, str) and not is_ticket_number(ref):
        raise ticket_not_found(ref)
    found = await uow.tickets.get_guarded(ref, for_update=for_update)
    if found is None or not _may_see(principal, found.ticket):
        raise ticket_not_found(ref)
    return found


def _whole(log_: Sequence[ClockEvent] | None, logged: int) -> Sequence[ClockEvent] | None:
    """The clock log read with the locked ticket, unless the write under the lock counts other than its events
    (`logged`): on PostgreSQL the read's snapshot precedes the lock it waited for, and the writer that held the lock
    may have appended since. None then: the log is read again."""
    return log_ if log_ is not None and len(log_) == logged else None


def _may_see(principal: Principal, ticket: Ticket) -> bool:
    return principal.can_see_customer(ticket.customer_no) and principal.can_see_business_line(ticket.business_line)


async def visible_ticket(uow: UnitOfWork, principal: Principal, ref: UUID | str) -> Ticket:
    """The ticket by id or number as the caller may see it (their own, or their business lines'), or
    ticket_not_found: for use cases of other nouns that start from a ticket."""
    return await _visible(uow, principal, ref)


async def _visible(uow: UnitOfWork, principal: Principal, ref: UUID | str, *, for_update: bool = False) -> Ticket:
    if isinstance(ref, str) and not is_ticket_number(ref):
        raise ticket_not_found(ref)
    ticket = await uow.tickets.get(ref, for_update=for_update)
    if ticket is None or not _may_see(principal, ticket):
        raise ticket_not_found(ref)
    return ticket


async def _pool_scope(uow: UnitOfWork, principal: Principal) -> PoolScope:
    lines = principal.business_line_scope
    if principal.is_manager:
        return PoolScope(groups=None, business_lines=lines)
    agent = await uow.agents.get(principal.subject)
    return PoolScope(groups=frozenset(agent.data.groups if agent else ()), business_lines=lines)


async def _record(
    uow: UnitOfWork,
    ticket: Ticket,
    principal: Principal,
    now: datetime,
    change: Change,
    also: Sequence[OutboxEvent] = (),
) -> TimelineEntry:
    """The timeline entry and the outbox event of one change to a ticket, with its other events (`also`)."""
    return await record_ticket_change(uow, ticket, principal.subject, now, change, also)


async def _record_flag(
    uow: UnitOfWork,
    before: Ticket,
    after: Ticket,
    reasons: Sequence[RiskReason],
    principal: Principal,
    now: datetime,
) -> None:
    """A customer's message flagged the ticket: an internal entry naming the reasons (and the priority raised), the
    `risk.flagged` event, and the managers told."""
    payload: dict[str, Any] = {"risk_reasons": [r.as_json() for r in reasons]}
    if after.priority != before.priority:
        payload["priority"] = {"from": before.priority.value, "to": after.priority.value}
    change = Change("updated", "update", payload=payload, public=False)
    await _record(uow, after, principal, now, change, [flagged_event(after, reasons, principal.subject, now)])
    await notify_managers(uow, after, reasons, principal.subject, now)


def _plain(value: Any) -> Any:
    """JSON-ready form of an entity field, for timeline payloads."""
    if hasattr(value, "__dataclass_fields__"):
        return {k: _plain(getattr(value, k)) for k in value.__dataclass_fields__}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, date):
        return value.isoformat()
    return value.value if hasattr(value, "value") else value
