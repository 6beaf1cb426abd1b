"""/v1/workflows: each workflow's states, transitions and labels, as JSON or a Mermaid diagram."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Path, Query, Response

from app.domain.errors import NotFound
from app.schemas.common import problems
from app.schemas.workflows import WorkflowOut, WorkflowSummaryOut
from app.web.auth import Anyone
from app.web.language import Lang
from app.web.routes import api_router
from app.workflows.registry import WORKFLOWS

router = api_router(prefix="/v1/workflows", tags=["workflows"])


@router.get("", responses=problems())
async def list_workflows(_: Anyone, language: Lang) -> list[WorkflowSummaryOut]:
    """Every workflow the service runs."""
    return [WorkflowSummaryOut(name=w.name, title=w.title.pick(language)) for w in WORKFLOWS.values()]


@router.get(
    "/{name}",
    responses={**problems(404, 422), 200: {"content": {"application/json": {}, "text/vnd.mermaid": {}}}},
)
async def get_workflow(
    name: Annotated[str, Path(pattern=r"^[a-z_]{1,32}$")],
    _: Anyone,
    language: Lang,
    format: Annotated[Literal["json", "mermaid"], Query(description="`mermaid` renders a state diagram.")] = "json",
) -> WorkflowOut:
    """States (agent and customer labels in zh-CN and en), transitions (roles, payload schema) and the initial
    state; `?format=mermaid` answers a Mermaid `stateDiagram-v2`."""
    workflow = WORKFLOWS.get(name)
    if workflow is None:
        raise NotFound(f"No workflow '{name}'", code="workflow_not_found")
    if format == "mermaid":
        return Response(workflow.mermaid(language), media_type="text/vnd.mermaid")  # type: ignore[return-value]
    return WorkflowOut.of(workflow)
