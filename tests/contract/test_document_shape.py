"""The OpenAPI document is one that SDK generators and validators accept: valid, every operation named and tagged,
every error a named problem, every action payload a named schema, hours and examples saying what the API takes."""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_spec_validator import validate

from app.domain.principal import Role
from app.main import create_app
from app.schemas.workflows import ACTION_FAMILIES
from app.workflows.task import HOURS_PATTERN, POSITIVE_HOURS_PATTERN
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parents[2]
OPERATION_ID = re.compile(r"^[a-z]+(?:[A-Z][a-z]+){0,3}$")
"""camelCase, at most four words: `createAfterSales`, `listWebhookEventTypes`."""
KEY_FIELDS = ("customer_no", "order_no", "sku", "skus", "contract_no")
PYDANTIC_ONLY = {"ge", "gt", "le", "lt", "min_length", "max_length", "max_digits", "decimal_places", "multiple_of"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return create_app(make_settings("sqlite+aiosqlite://")).openapi()


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def _schemas(node: Any) -> Iterator[dict[str, Any]]:
    """Every object schema with properties, anywhere in the document."""
    if isinstance(node, dict):
        if isinstance(node.get("properties"), dict):
            yield node
        for value in node.values():
            yield from _schemas(value)
    elif isinstance(node, list):
        for value in node:
            yield from _schemas(value)


def _branches(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """A property's schema without its `null` alternative."""
    return [s for s in schema.get("anyOf", [schema]) if s.get("type") != "null"]


def test_the_served_document_is_valid_openapi(document):
    validate(document)


def test_the_committed_openapi_yaml_is_valid_openapi():
    validate(yaml.safe_load((ROOT / "openapi.yaml").read_text(encoding="utf-8")))


def test_every_operation_has_a_short_unique_camel_case_id_and_a_tag(document):
    ids = [operation.get("operationId", "") for _, _, operation in _operations(document)]

    assert [i for i in ids if not OPERATION_ID.match(i)] == []
    assert sorted(i for i in set(ids) if ids.count(i) > 1) == []
    assert [(m, p) for p, m, operation in _operations(document) if not operation.get("tags")] == []


def test_every_error_response_is_a_problem_document(document):
    not_problems = [
        (method, path, status)
        for path, method, operation in _operations(document)
        for status, response in operation["responses"].items()
        if int(status) >= 400
        and response.get("content")
        != {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    ]

    assert not_problems == [("get", "/readyz", "503")]  # the load balancer's readiness report, not a problem


def test_the_problem_schema_names_every_extension_the_code_sets(document):
    """Every key any module puts on a problem (`extra={...}`) is a documented, optional member of `Problem`."""
    source = "\n".join(path.read_text(encoding="utf-8") for path in (ROOT / "app").rglob("*.py"))
    literals = re.findall(r"\bextra\s*=\s*\{([^}]*)\}", source)
    extensions = {key for literal in literals for key in re.findall(r'"(\w+)"\s*:', literal)}
    problem = document["components"]["schemas"]["Problem"]

    assert {"current_state", "allowed_actions", "current_etag", "inbound_event_id"} <= extensions
    assert extensions - set(problem["properties"]) == set()
    assert extensions.isdisjoint(problem["required"])
    item = problem["properties"]["errors"]["anyOf"][0]["items"]
    assert item == {"$ref": "#/components/schemas/ProblemFieldError"}


def test_each_action_endpoint_takes_a_required_object_of_its_workflows_named_payloads(document):
    components = document["components"]["schemas"]
    actions = {
        path: operation for path, method, operation in _operations(document) if path.endswith("/actions/{action}")
    }
    assert len(actions) == len(ACTION_FAMILIES)
    for path, operation in actions.items():
        body = operation["requestBody"]
        offered = {ref["$ref"] for ref in body["content"]["application/json"]["schema"]["anyOf"]}
        by_workflow = operation["x-action-payloads"]
        named = {ref["$ref"] for payloads in by_workflow.values() for ref in payloads.values()}

        assert body["required"] is True, path
        assert offered == named, path
        for ref in named:
            payload = components[ref.rsplit("/", 1)[1]]
            assert (payload["type"], payload["additionalProperties"]) == ("object", False), ref
            assert "remark" in payload["properties"] and not set(payload.get("required", [])) & {"remark"}, ref
    families = {
        workflow.name: {t.action for t in workflow.transitions}
        for workflows in ACTION_FAMILIES.values()
        for workflow in workflows
    }
    documented = {
        name: set(payloads)
        for operation in actions.values()
        for name, payloads in operation["x-action-payloads"].items()
    }
    assert documented == families


async def test_an_action_sent_without_a_body_is_a_422_naming_the_body(client, auth):
    for path in (f"/v1/tickets/{uuid.uuid4()}", f"/v1/tasks/{uuid.uuid4()}", f"/v1/after-sales/{uuid.uuid4()}"):
        response = await client.post(f"{path}/actions/claim", headers=auth(Role.ADMIN))

        assert response.status_code == 422, (path, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"] == [{"detail": "Field required", "pointer": "#"}]


def test_every_hours_field_is_an_exact_decimal_string(document):
    hours = {
        (schema.get("title"), name): prop
        for schema in _schemas(document)
        for name, prop in schema["properties"].items()
        if name.endswith("hours") or name == "hours_worked"
    }

    assert len(hours) >= 8  # task in and out, report, approve, decision, work-hours report
    for where, prop in hours.items():
        assert _branches(prop) and all(
            (b.get("type"), b.get("format")) == ("string", "decimal")
            and b.get("pattern") in (HOURS_PATTERN, POSITIVE_HOURS_PATTERN)
            for b in _branches(prop)
        ), where


def test_readiness_documents_its_report(document):
    responses = document["paths"]["/readyz"]["get"]["responses"]

    for status in ("200", "503"):
        assert responses[status]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ReadinessOut"
        }


def test_business_key_examples_match_their_field(document):
    """An example order number is not a customer number: each example value belongs to one kind of key."""
    fields_of: dict[str, set[str]] = defaultdict(set)
    for schema in _schemas(document):
        for name in KEY_FIELDS:
            prop = schema["properties"].get(name)
            for branch in _branches(prop) if prop else []:
                for example in branch.get("examples", []) + branch.get("items", {}).get("examples", []):
                    fields_of[example].add(name.removesuffix("s") if name == "skus" else name)
        for example in schema.get("examples", []):
            for name in KEY_FIELDS:
                values = example.get(name) if isinstance(example, dict) else None
                for value in values if isinstance(values, list) else [values] if values else []:
                    fields_of[value].add(name.removesuffix("s") if name == "skus" else name)

    assert {"customer_no", "order_no", "sku"} <= {field for fields in fields_of.values() for field in fields}
    assert {value: fields for value, fields in fields_of.items() if len(fields) > 1} == {}


def test_no_schema_carries_pydantic_constraint_names_that_json_schema_ignores(document):
    """`ge`/`le` leaking into a schema (instead of `minimum`/`maximum`) leaves the limit undocumented to clients."""
    leaked = []
    pending: list[Any] = [document]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            if "type" in node and (keys := set(node) & PYDANTIC_ONLY):
                leaked.append((node.get("title"), sorted(keys)))
            pending += node.values()
        elif isinstance(node, list):
            pending += node

    assert leaked == []


def test_no_two_models_share_a_schema_name(document):
    """Two models of one class name get module-qualified names (`app__schemas__x__VoteOut`) that generators turn
    into unusable types: every component keeps the short name of the one model it comes from."""
    mangled = [name for name in document["components"]["schemas"] if "__" in name]

    assert mangled == []
