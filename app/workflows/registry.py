"""Every workflow by name, for `GET /v1/workflows` and for the services that run them."""

from __future__ import annotations

from typing import Any

from app.workflows.after_sales import AFTER_SALES_WORKFLOWS
from app.workflows.engine import Workflow
from app.workflows.kb_article import KB_ARTICLE
from app.workflows.task import TASK
from app.workflows.ticket import TICKET

WORKFLOWS: dict[str, Workflow[Any]] = {
    workflow.name: workflow for workflow in (TICKET, TASK, *AFTER_SALES_WORKFLOWS.values(), KB_ARTICLE)
}
