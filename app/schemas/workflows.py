"""Workflow contract shared by every workflow's resources: descriptions, action bodies, available actions, the
customer's view of a state and the timeline."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from app.domain.events import TimelineEntry
from app.domain.principal import Principal
from app.domain.tickets import Attachment
from app.schemas.attachments import AttachmentOut
from app.workflows.after_sales import AFTER_SALES_WORKFLOWS
from app.workflows.engine import AvailableAction, Label, Payload, State, Workflow, payload_schema
from app.workflows.kb_article import KB_ARTICLE
from app.workflows.standard_texts import in_language
from app.workflows.task import TASK
from app.workflows.ticket import TICKET


class LabelOut(BaseModel):
    zh_cn: str
    en: str

    @classmethod
    def of(cls, label: Label) -> LabelOut:
        return cls(zh_cn=label.zh, en=label.en)


class StateOut(BaseModel):
    name: str
    agent_label: LabelOut
    customer_label: LabelOut
    customer_message: LabelOut | None
    final: bool


class TransitionOut(BaseModel):
    action: str
    sources: list[str]
    dest: str | None
    roles: list[str]
    customer_may_trigger: bool
    visible_to_customer: bool
    description: str
    payload_schema: dict[str, Any]


class WorkflowSummaryOut(BaseModel):
    name: str
    title: str


class WorkflowOut(BaseModel):
    name: str
    title: LabelOut
    initial: str
    states: list[StateOut]
    transitions: list[TransitionOut]

    @classmethod
    def of(cls, workflow: Workflow[Any]) -> WorkflowOut:
        return cls(
            name=workflow.name,
            title=LabelOut.of(workflow.title),
            initial=workflow.initial,
            states=[
                StateOut(
                    name=s.name,
                    agent_label=LabelOut.of(s.agent),
                    customer_label=LabelOut.of(s.customer),
                    customer_message=LabelOut.of(s.customer_message) if s.customer_message else None,
                    final=s.final,
                )
                for s in workflow.states
            ],
            transitions=[
                TransitionOut(
                    action=t.action,
                    sources=list(t.sources),
                    dest=t.dest,
                    roles=sorted(t.roles),
                    customer_may_trigger=t.customer,
                    visible_to_customer=t.public,
                    description=t.description,
                    payload_schema=payload_schema(t.payload),
                )
                for t in workflow.transitions
            ],
        )


class ActionIn(BaseModel):
    """`remark` plus the fields the action's `payload_schema` (see `available_actions`) asks for; the workflow
    validates them against the action's own payload. The document shows the payloads instead of this model."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{"remark": "已电话联系客户"}]})

    remark: str | None = Field(None, max_length=2000)


ACTION_PAYLOADS_KEY = "x-action-payloads"
ACTION_FAMILIES: dict[str, tuple[Workflow[Any], ...]] = {
    "Ticket": (TICKET,),
    "Task": (TASK,),
    "AfterSales": tuple(AFTER_SALES_WORKFLOWS.values()),
    "KbArticle": (KB_ARTICLE,),
}
"""The workflows behind each action endpoint, by the prefix of their payloads' schema names (several workflow
modules have a `ReasonPayload`: the document calls them TicketReasonPayload, TaskReasonPayload, …)."""
_SCHEMA_REF = "#/components/schemas/{model}"


def _payloads(family: str) -> dict[str, type[Payload]]:
    named: dict[str, type[Payload]] = {}
    for workflow in ACTION_FAMILIES[family]:
        for t in workflow.transitions:
            if named.setdefault(f"{family}{t.payload.__name__}", t.payload) is not t.payload:
                raise ValueError(f"Two payload classes of the {family} workflows are named {t.payload.__name__}")
    return named


def action_payloads(family: str) -> dict[str, Any]:
    """`openapi_extra` of an action endpoint: for each workflow, the named payload schema of each action."""
    names = {cls: name for name, cls in _payloads(family).items()}
    return {
        ACTION_PAYLOADS_KEY: {
            workflow.name: {
                t.action: {"$ref": _SCHEMA_REF.format(model=names[t.payload])} for t in workflow.transitions
            }
            for workflow in ACTION_FAMILIES[family]
        }
    }


def action_payload_components() -> dict[str, dict[str, Any]]:
    """Every action payload's schema under its name, with the models they nest, for the document's components."""
    components: dict[str, dict[str, Any]] = {}
    for family in ACTION_FAMILIES:
        for name, cls in _payloads(family).items():
            schema = cls.model_json_schema(ref_template=_SCHEMA_REF)
            components.update(schema.pop("$defs", {}))
            components[name] = {**schema, "title": name}
    return components


class CustomerStatusOut(BaseModel):
    label: str
    message: str | None


class AvailableActionOut(BaseModel):
    action: str
    to_status: str
    description: str
    required_fields: list[str]
    payload_schema: dict[str, Any]

    @classmethod
    def of(cls, available: AvailableAction) -> AvailableActionOut:
        """Rendered once per button (buttons are built with their workflow, and the answer holds no caller's data):
        a list page shows a hundred of them."""
        return _rendered(available)


@cache
def _rendered(available: AvailableAction) -> AvailableActionOut:
    return AvailableActionOut(
        action=available.action,
        to_status=available.dest,
        description=available.description,
        required_fields=list(available.payload_schema.get("required", [])),
        payload_schema=available.payload_schema,
    )


def customer_status(state: State, language: str) -> CustomerStatusOut:
    message = state.customer_message.pick(language) if state.customer_message else None
    return CustomerStatusOut(label=state.customer.pick(language), message=message)


class TimelineEntryOut(BaseModel):
    id: UUID
    at: datetime
    actor: str = Field(description="Who did it; in the customer's view `you` or `service`.")
    kind: Literal["created", "action", "comment", "updated", "task", "approval"] = Field(
        description="`task`: a step of one of the ticket's tasks; `approval`: a decision on an approval."
    )
    action: str | None
    from_status: str | None
    to_status: str | None
    to_status_label: str | None
    remark: str | None
    payload: dict[str, Any] | None = Field(description="The action's fields; null in the customer's view.")
    attachments: list[AttachmentOut] = Field(
        description="The files the comment or action attached (customers see public entries' only)."
    )
    visibility: Literal["public", "internal"]

    @classmethod
    def of(cls, entry: TimelineEntry, principal: Principal, workflow: Workflow[Any], language: str) -> TimelineEntryOut:
        customer = principal.is_customer
        label = None
        if entry.to_status is not None:
            state = workflow.state(entry.to_status)
            label = (state.customer if customer else state.agent).pick(language)
        actor = entry.actor
        shown_remark = entry.remark_public or not customer
        if customer:
            actor = "you" if entry.actor == principal.subject else "service"
        return cls(
            id=entry.id,
            at=entry.at,
            actor=actor,
            kind=entry.kind,
            action=entry.action,  # type: ignore[arg-type]
            from_status=entry.from_status,
            to_status=entry.to_status,
            to_status_label=label,
            remark=in_language(entry.remark, language) if entry.remark and shown_remark else None,
            payload=None if customer else entry.payload,
            attachments=[
                AttachmentOut.of(Attachment.from_json(a), principal) for a in entry.payload.get("attachments", ())
            ],
            visibility="public" if entry.public else "internal",
        )
