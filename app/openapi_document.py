"""The OpenAPI document clients generate SDKs from, the offline docs page that shows it, and the committed
openapi.yaml: `python -m app.openapi_document write|check PATH`."""

from __future__ import annotations

import json
import re
import sys
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request
from starlette.responses import HTMLResponse

from app.schemas.common import PROBLEM_DESCRIPTIONS
from app.schemas.stored_attachments import AttachmentUploadForm
from app.schemas.workflows import ACTION_PAYLOADS_KEY, action_payload_components
from app.settings import Settings
from app.web.auth import SECURITY_SCHEMES
from app.web.idempotency import document_idempotency_key
from app.web.problems import PROBLEM_MEDIA_TYPE
from app.web.routes import api_routes, declared_roles, is_download_link, is_public_link, is_signed

PROBLEM_REF = "#/components/schemas/Problem"
_REF = re.compile(r'"\$ref": "#/components/schemas/([^"]+)"')
PRECONDITION_HEADERS = {"if-match", "if-none-match"}
STREAMED_BODIES = (AttachmentUploadForm,)
NOT_PROBLEMS = {("/readyz", "get", "503")}
"""Error responses whose body is a report of its own rather than a problem (the load balancer's readiness)."""


def openapi_of(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, made what clients rely on: each operation's roles (`x-roles`), every error response a
    problem+json `Problem`, each action's payload a named schema, and no schema referenced that is not there."""
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        _declare_permissions(schema, app)
        _transport_problems(schema)
        _problems_everywhere(schema)
        _name_action_payloads(schema)
        _name_streamed_bodies(schema)
        document_idempotency_key(schema)
        _drop_unreferenced_schemas(schema)
        app.openapi_schema = schema
    return app.openapi_schema


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, item in schema["paths"].items() for method, op in item.items()]


def _declare_permissions(schema: dict[str, Any], app: FastAPI) -> None:
    """Each operation's roles (`x-roles`) and how its caller authenticates (`security`, right after its id)."""
    schema.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
    for route in api_routes(app):
        roles = declared_roles(route)
        for method in route.methods:
            path_item = schema["paths"].get(route.path_format, {})
            operation = path_item.get(method.lower())
            if operation is not None and roles is not None:
                path_item[method.lower()] = operation = _with_security(operation)
                operation["x-roles"] = sorted(role.value for role in roles)
            elif operation is not None and is_signed(route):
                operation["x-signature"] = "standard-webhooks"  # authenticated by its signed body, not a role
            elif operation is not None and is_public_link(route):
                operation["x-public-link"] = "survey"  # authorized by the single-use token in its path
            elif operation is not None and is_download_link(route):
                operation["x-public-link"] = "attachment"  # authorized by the HMAC-signed link in its query


def _with_security(operation: dict[str, Any]) -> dict[str, Any]:
    keys = list(operation)
    at = keys.index("operationId") + 1 if "operationId" in keys else len(keys)
    items = list(operation.items())
    return dict([*items[:at], ("security", [{name: []} for name in SECURITY_SCHEMES]), *items[at:]])


def _transport_problems(schema: dict[str, Any]) -> None:
    """What the app answers around the operation itself: 400 `malformed_precondition` wherever If-Match or
    If-None-Match is read, and 413/415 wherever a body is (too large; not UTF-8 JSON)."""
    for _path, _method, operation in _operations(schema):
        headers = {p["name"].lower() for p in operation.get("parameters", []) if p.get("in") == "header"}
        statuses = [400] if headers & PRECONDITION_HEADERS else []
        statuses += [413, 415] if "requestBody" in operation else []
        for status in statuses:
            operation["responses"].setdefault(str(status), {"description": PROBLEM_DESCRIPTIONS[status]})


def _problems_everywhere(schema: dict[str, Any]) -> None:
    """Every 4xx/5xx answer is the `Problem` our handlers write, including the 422 FastAPI adds on its own to any
    operation with parameters (it would name its own `HTTPValidationError`, which the service never sends)."""
    for path, method, operation in _operations(schema):
        for status, response in operation.get("responses", {}).items():
            if not status.isdigit() or int(status) < 400 or (path, method, status) in NOT_PROBLEMS:
                continue
            if response.get("description") == "Validation Error":
                response["description"] = PROBLEM_DESCRIPTIONS[422]
            response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": PROBLEM_REF}}}


def _name_action_payloads(schema: dict[str, Any]) -> None:
    """An action endpoint's body is one of its workflows' payload schemas, each named in components; which one
    goes with which action is in the operation's `x-action-payloads`."""
    components = schema["components"]["schemas"]
    for name, payload in action_payload_components().items():
        if components.setdefault(name, payload) != payload:
            raise ValueError(f"Two different schemas would be named {name} in the OpenAPI document")
    for _path, _method, operation in _operations(schema):
        by_workflow = operation.get(ACTION_PAYLOADS_KEY)
        if by_workflow is None:
            continue
        refs = sorted({ref["$ref"] for actions in by_workflow.values() for ref in actions.values()})
        operation["requestBody"] = {
            "required": True,
            "description": "A JSON object, `{}` when the action takes no field: `remark` plus the action's fields "
            f"(the payload named for the action in `{ACTION_PAYLOADS_KEY}`, and its `payload_schema` in "
            "`available_actions`).",
            "content": {"application/json": {"schema": {"anyOf": [{"$ref": ref} for ref in refs]}}},
        }


def _name_streamed_bodies(schema: dict[str, Any]) -> None:
    """Bodies a route streams itself (uploads) are no parameter FastAPI could see: their forms are named here."""
    components = schema["components"]["schemas"]
    for model in STREAMED_BODIES:
        document = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, nested in {**document.pop("$defs", {}), model.__name__: document}.items():
            if components.setdefault(name, nested) != nested:
                raise ValueError(f"Two different schemas would be named {name} in the OpenAPI document")


def _drop_unreferenced_schemas(schema: dict[str, Any]) -> None:
    """Components nothing refers to any more (FastAPI's validation error, the generic action body) are left out."""
    components = schema["components"]["schemas"]
    reachable: set[str] = set()
    pending = set(_REF.findall(json.dumps(schema["paths"])))
    while pending:
        name = pending.pop()
        if name not in reachable and name in components:
            reachable.add(name)
            pending |= set(_REF.findall(json.dumps(components[name])))
    for name in set(components) - reachable:
        del components[name]


def install_docs(app: FastAPI, docs_url: str) -> None:
    """Swagger UI at `docs_url`, its assets served by the app itself (from the `fastapi-offline` package), so the
    page works without internet."""
    assets = f"{docs_url}/static"
    app.mount(assets, StaticFiles(directory=str(files("fastapi_offline") / "static")), name="docs-assets")

    async def docs(_request: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} — API docs",
            swagger_js_url=f"{assets}/swagger-ui-bundle.js",
            swagger_css_url=f"{assets}/swagger-ui.css",
            swagger_favicon_url=f"{assets}/favicon.png",
        )

    app.add_route(docs_url, docs, include_in_schema=False)


def render() -> str:
    from app.main import create_app  # the app imports this module for its document

    app = create_app(Settings(database_url="sqlite+aiosqlite://", env="test"))
    return yaml.safe_dump(app.openapi(), sort_keys=False, allow_unicode=True, width=110)


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in {"write", "check"}:
        print("usage: python -m app.openapi_document write|check PATH", file=sys.stderr)
        return 2
    path, current = Path(argv[1]), render()
    if argv[0] == "write":
        path.write_text(current, encoding="utf-8")
        return 0
    if not path.exists() or path.read_text(encoding="utf-8") != current:
        print(f"{path} is out of date: run `make openapi` and commit it", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
