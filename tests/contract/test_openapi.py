"""The committed openapi.yaml is the app's document, and every operation honours it (schemathesis)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.domain.clock import SystemClock
from app.domain.principal import Role
from app.main import create_app
from app.openapi_document import render
from tests.conftest import make_settings

EXAMPLES_PER_OPERATION = 25
SHARDS = 4
"""The operations are exercised in this many tests (every SHARDS-th operation each), so the workers share them."""
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


def test_committed_openapi_yaml_matches_the_app():
    committed = Path(__file__).resolve().parents[2] / "openapi.yaml"

    assert committed.read_text(encoding="utf-8") == render(), "openapi.yaml drifted: run `make openapi`"


def test_every_operation_documents_itself():
    document = create_app(make_settings("sqlite+aiosqlite://")).openapi()

    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert operation.get("description"), f"{method.upper()} {path} has no description"
            declared = operation.get("x-roles") or operation.get("x-signature") or operation.get("x-public-link")
            assert declared or path in {"/healthz", "/readyz", "/metrics"}, (method, path)


@pytest.mark.parametrize("shard", range(SHARDS))
def test_operations_conform_to_the_document(database_url, shard):
    """Positive and negative examples for every operation, sent in-process to a separate app that
    schemathesis drives on its own event loop thread; any 500 or off-contract answer fails."""
    app = create_app(make_settings(database_url))
    api = schemathesis.openapi.from_asgi("/openapi.json", app)
    # The caller's credentials are the test's own (below): a mutated Authorization header would be replaced by them
    # and the request wrongly counted as invalid data accepted. Authentication has its own tests.
    api.config.generation.update(with_security_parameters=False)
    token = app.state.services.tokens.issue(
        subject="contract-admin", roles=[Role.ADMIN], now=SystemClock().now(), ttl=timedelta(hours=1)
    )
    headers = {"Authorization": f"Bearer {token}"}
    failures: list[str] = []
    for index, result in enumerate(api.get_all_operations()):
        if index % SHARDS != shard:
            continue
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES_PER_OPERATION,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def exercise(case):
                case.call_and_validate(headers=headers, checks=CHECKS)

            try:
                exercise()
            except Unsatisfiable:
                continue  # nothing to make invalid: the operation takes no input
            except Exception as failure:
                failures.append(f"{operation.label} [{mode}]: {failure}")
    assert not failures, "\n\n".join(failures)
