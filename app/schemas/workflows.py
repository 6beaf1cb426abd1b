"""Workflow description contract."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from app.workflows.engine import Label, Workflow


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
                    payload_schema=t.payload.model_json_schema(),
                )
                for t in workflow.transitions
            ],
        )
