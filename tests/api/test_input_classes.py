"""Classes of bad input, found from the OpenAPI document itself so that a new field is covered the day it is added:
every date-time a client sends must have a UTC form in years 1–9999, and every integer must arrive as a JSON
integer within its bounds. Each answers 422 naming the field, never 500 and never a silently converted value."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from pydantic import ValidationError

from app.domain.clock import SystemClock
from app.domain.principal import Role
from app.main import create_app
from app.settings import Settings
from app.workflows.inputs import StrictInput
from tests.api.test_inbound_events import SECRETS, signed
from tests.conftest import make_settings

DOCUMENT = create_app(Settings(env="test", database_url="sqlite+aiosqlite:///:memory:")).openapi()
SCHEMAS = DOCUMENT["components"]["schemas"]
OUT_OF_RANGE_TIMES = ("9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59")
NOT_INTEGERS = {
    "string": '"100"',
    "float": "100.0",
    "exponent": "1e2",
    "long fraction": "100.0000000000000000001",
    "boolean": "true",
    "huge": str(10**30),
}


def _resolved(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        _, _, section, name = schema["$ref"].split("/")
        schema = DOCUMENT["components"][section][name]
    return schema


def _leaves(
    schema: dict[str, Any], path: tuple[str, ...] = (), depth: int = 0
) -> Iterator[tuple[tuple[str, ...], dict]]:
    """Every (path, schema) of the body's properties, arrays as index 0, through $ref and anyOf."""
    schema = _resolved(schema)
    if depth > 6:
        return
    for alternative in schema.get("anyOf", []) + schema.get("oneOf", []) + schema.get("allOf", []):
        yield from _leaves(alternative, path, depth + 1)
    yield path, schema
    for name, sub in schema.get("properties", {}).items():
        yield from _leaves(sub, (*path, name), depth + 1)
    if schema.get("type") == "array" and "items" in schema:
        yield from _leaves(schema["items"], (*path, "0"), depth + 1)


def _operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Workflow actions validate their payload once the object is loaded (which payload depends on the action):
    their models are checked directly below, with every other input model."""
    for path, item in DOCUMENT["paths"].items():
        if path.endswith("/actions/{action}"):
            continue
        for method, operation in item.items():
            yield method.upper(), path, operation


def _body_fields(kind: str) -> list[tuple[str, str, tuple[str, ...]]]:
    found = set()
    for method, path, operation in _operations():
        for content in operation.get("requestBody", {}).get("content", {}).values():
            for field, schema in _leaves(content["schema"]):
                is_kind = schema.get("format") == "date-time" if kind == "date-time" else schema.get("type") == kind
                if field and is_kind:
                    found.add((method, path, field))
    return sorted(found)


def _query_times() -> list[tuple[str, str, str]]:
    found = set()
    for method, path, operation in _operations():
        for parameter in map(_resolved, operation.get("parameters", [])):
            schema = parameter.get("schema", {})
            if parameter["in"] == "query" and any(
                s.get("format") == "date-time" for s in (schema, *schema.get("anyOf", []))
            ):
                found.add((method, path, parameter["name"]))
    return sorted(found)


def _case_id(value: Any) -> str:
    return "/".join(value) if isinstance(value, tuple) else str(value)


BODY_TIMES, BODY_INTEGERS, QUERY_TIMES = _body_fields("date-time"), _body_fields("integer"), _query_times()


def _url(path: str, operation: dict[str, Any]) -> str:
    for parameter in map(_resolved, operation.get("parameters", [])):
        if parameter["in"] == "path":
            schema = _resolved(parameter.get("schema", {}))
            value = schema["enum"][0] if "enum" in schema else str(uuid.uuid4()) if schema.get("format") else "X-1"
            value = "erp" if parameter["name"] == "source" else value  # a source with a signing secret
            path = path.replace("{" + parameter["name"] + "}", value)
    return path


def _nested(field: tuple[str, ...], placeholder: str) -> Any:
    """A body holding only `field` (a JSON pointer's parts), set to a placeholder replaced by raw JSON text."""
    value: Any = placeholder
    for part in reversed(field):
        value = [value] if part == "0" else {part: value}
    return value


@pytest.fixture(scope="module")
async def probed(database_url: str) -> AsyncIterator[FastAPI]:
    """One app for the module's hundreds of requests (none of which writes anything), with inbound secrets."""
    application = create_app(make_settings(database_url, inbound_secrets=SECRETS))
    async with LifespanManager(application):
        yield application


@pytest.fixture
async def http(probed: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=probed, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


def _headers(app, operation: dict[str, Any], path: str, content: bytes) -> dict[str, str]:
    if operation.get("x-signature"):
        return signed(path.rsplit("/", 1)[-1], content)[1]
    if operation.get("x-public-link"):
        return {"Content-Type": "application/json"}  # a survey link is answered without credentials
    role = Role(operation.get("x-roles", ["admin"])[0])
    token = app.state.services.tokens.issue(
        subject="probe",
        roles=[role],
        customer_no="C-1" if role is Role.CUSTOMER else None,
        now=SystemClock().now(),
        ttl=timedelta(hours=1),
    )
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


async def _send_body(http, probed, method: str, path: str, field: tuple[str, ...], raw: str) -> httpx.Response:
    operation = DOCUMENT["paths"][path][method.lower()]
    url = _url(path, operation)
    content = json.dumps(_nested(field, "\x00PROBE\x00")).replace('"\\u0000PROBE\\u0000"', raw).encode()
    return await http.request(method, url, content=content, headers=_headers(probed, operation, url, content))


def _pointers(response: httpx.Response) -> set[str]:
    return {error.get("pointer") or error.get("parameter") for error in response.json().get("errors", [])}


def test_the_document_has_the_fields_these_tests_walk():
    """A guard against the discovery silently finding nothing."""
    assert len(BODY_TIMES) >= 10 and len(BODY_INTEGERS) >= 10 and len(QUERY_TIMES) >= 8


@pytest.mark.parametrize("value", OUT_OF_RANGE_TIMES)
@pytest.mark.parametrize(
    ("method", "path", "field"), BODY_TIMES, ids=lambda v: "/".join(v) if isinstance(v, tuple) else v
)
async def test_a_body_time_outside_the_utc_years_is_a_422_naming_it(http, probed, method, path, field, value):
    response = await _send_body(http, probed, method, path, field, json.dumps(value))

    assert response.status_code == 422, response.text
    assert "#/" + "/".join(field) in _pointers(response), response.text


@pytest.mark.parametrize("value", OUT_OF_RANGE_TIMES)
@pytest.mark.parametrize(("method", "path", "name"), QUERY_TIMES)
async def test_a_query_time_outside_the_utc_years_is_a_422_naming_it(http, probed, method, path, name, value):
    operation = DOCUMENT["paths"][path][method.lower()]
    url = _url(path, operation)

    response = await http.request(method, url, params={name: value}, headers=_headers(probed, operation, url, b""))

    assert response.status_code == 422, response.text
    assert name in _pointers(response), response.text


@pytest.mark.parametrize("kind", NOT_INTEGERS)
@pytest.mark.parametrize(("method", "path", "field"), BODY_INTEGERS, ids=_case_id)
async def test_an_integer_field_takes_only_a_json_integer_within_bounds(http, probed, method, path, field, kind):
    response = await _send_body(http, probed, method, path, field, NOT_INTEGERS[kind])

    assert response.status_code == 422, response.text
    assert "#/" + "/".join(field) in _pointers(response), response.text


def _input_models() -> list[type[StrictInput]]:
    found, pending = [], list(StrictInput.__subclasses__())
    while pending:
        model = pending.pop()
        found.append(model)
        pending.extend(model.__subclasses__())
    return sorted(set(found), key=lambda m: f"{m.__module__}.{m.__qualname__}")


def _fields_named(model: type[StrictInput], probe: Any, error_types: set[str]) -> set[str]:
    """The fields of `model` that refuse `probe` with one of `error_types`, sent alone or as a list's item."""
    refused = set()
    for name in model.model_fields:
        for value in (probe, [probe]):
            try:
                model.model_validate({name: value})
            except ValidationError as exc:
                refused |= {name for e in exc.errors() if e["loc"][:1] == (name,) and e["type"] in error_types}
    return refused


def _fields_typed(model: type[StrictInput], kind: type) -> set[str]:
    names = {"int"} if kind is int else {"datetime", "AwareDatetime"}

    def mentions(annotation: Any) -> bool:
        if getattr(annotation, "__name__", None) in names:
            return True
        return any(mentions(a) for a in getattr(annotation, "__args__", ()) or ())

    return {name for name, field in model.model_fields.items() if mentions(field.annotation)}


@pytest.mark.parametrize("model", _input_models(), ids=lambda m: m.__qualname__)
def test_every_input_model_including_undocumented_action_payloads_refuses_loose_integers(model):
    """Action payloads are validated by the workflow engine, outside the document: checked here by their models."""
    integers = _fields_typed(model, int)
    assert _fields_named(model, "100", {"int_type"}) >= integers
    assert _fields_named(model, 100.0, {"int_type"}) >= integers
    assert _fields_named(model, 10**30, {"less_than_equal", "less_than"}) >= integers, "every integer needs a bound"


@pytest.mark.parametrize("model", _input_models(), ids=lambda m: m.__qualname__)
def test_every_input_model_refuses_times_outside_the_utc_years(model):
    times = _fields_typed(model, datetime)
    for value in OUT_OF_RANGE_TIMES:
        assert _fields_named(model, value, {"value_error"}) >= times


def _text_parameters() -> list[tuple[str, str, tuple[tuple[str, str], ...]]]:
    """Each operation with its string query and path parameters (other than times): where a NUL could ride in."""
    found = []
    for method, path, operation in _operations():
        names = []
        for parameter in map(_resolved, operation.get("parameters", [])):
            schema = _resolved(parameter.get("schema", {}))
            items = _resolved(schema.get("items", {})) if schema.get("type") == "array" else schema
            kinds = [_resolved(s) for s in items.get("anyOf", [items])]
            if parameter["in"] in ("query", "path") and any(
                s.get("type") == "string" and s.get("format") != "date-time" for s in kinds
            ):
                names.append((parameter["in"], parameter["name"]))
        if names:
            found.append((method, path, tuple(names)))
    return found


TEXT_PARAMETERS = _text_parameters()


def test_the_document_has_the_text_parameters_the_nul_test_walks():
    assert len(TEXT_PARAMETERS) >= 20
    assert any(("query", "assignee") in names for _, _, names in TEXT_PARAMETERS)


@pytest.mark.parametrize(("method", "path", "names"), TEXT_PARAMETERS, ids=lambda v: v if isinstance(v, str) else "")
async def test_a_nul_in_any_text_parameter_is_a_422_naming_it(http, probed, method, path, names):
    """PostgreSQL can neither store nor compare a NUL: one that reached a query answered 500 there."""
    operation = DOCUMENT["paths"][path][method.lower()]
    template = path
    for where, name in names:
        if where == "path":
            template = template.replace("{" + name + "}", "a%00b")
    url = _url(template, operation)
    query = {name: "a\x00b" for where, name in names if where == "query"}
    content = b"{}" if method in ("POST", "PUT", "PATCH") else b""

    unsigned = operation.get("x-signature")  # no secret is configured for a source named so: refused unsigned
    headers = {"Content-Type": "application/json"} if unsigned else _headers(probed, operation, url, content)

    response = await http.request(method, url, params=query, content=content, headers=headers)

    assert response.status_code == 422, response.text
    assert {name for _, name in names} <= _pointers(response), response.text
