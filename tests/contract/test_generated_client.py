"""A Python SDK generated from the committed openapi.yaml by openapi-python-client runs a refund against the app:
the document is checked by what a real generated client needs (typed bodies, parsed answers), not by our own
httpx calls."""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
import yaml

from app.domain.principal import Role

OPENAPI_YAML = Path(__file__).resolve().parents[2] / "openapi.yaml"
PACKAGE = "aftersales_sdk"
GENERATOR = Path(sys.executable).with_name("openapi-python-client")


@pytest.fixture(scope="session")
def sdk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The SDK, generated once per test session (generation takes seconds), offline, without formatter hooks."""
    root = tmp_path_factory.mktemp("sdk")
    config = root / "config.yaml"
    # The generator knows JSON, form, multipart and octet-stream bodies; an ICS upload is bytes to it.
    config.write_text(
        f"package_name_override: {PACKAGE}\npost_hooks: []\n"
        "content_type_overrides:\n  text/calendar: application/octet-stream\n",
        encoding="utf-8",
    )
    generated = subprocess.run(  # noqa: S603 - our own venv's generator on our own document
        [
            str(GENERATOR),
            "generate",
            "--path",
            str(OPENAPI_YAML),
            "--output-path",
            str(root / PACKAGE),
            "--meta",
            "none",
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = generated.stdout + generated.stderr
    assert generated.returncode == 0, report
    assert "warning" not in report.lower(), f"the generator skipped part of the document:\n{report}"
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(root))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def _client(sdk: ModuleType, app: Any, headers: dict[str, str]) -> Any:
    """The SDK's own client, its requests sent in-process to the app under test."""
    return sdk.AuthenticatedClient(
        base_url="http://test",
        token=headers["Authorization"].removeprefix("Bearer "),
        httpx_args={"transport": httpx.ASGITransport(app=app, raise_app_exceptions=False)},
    )


def _payload_model(sdk: ModuleType, workflow: str, action: str) -> type:
    """The generated model of an action's payload, found as a client would: by the operation's x-action-payloads."""
    document = yaml.safe_load(OPENAPI_YAML.read_text(encoding="utf-8"))
    operation = document["paths"]["/v1/after-sales/{id}/actions/{action}"]["post"]
    name = operation["x-action-payloads"][workflow][action]["$ref"].rsplit("/", 1)[1]
    return getattr(sdk.models, name)


async def test_a_generated_client_runs_a_refund_to_the_end(app, auth, sdk):
    from aftersales_sdk.api.after_sales import act_on_after_sales, create_after_sales, get_after_sales
    from aftersales_sdk.api.customers import put_customer
    from aftersales_sdk.api.orders import put_order
    from aftersales_sdk.api.products import put_product
    from aftersales_sdk.models import (
        AfterSalesIn,
        AfterSalesType,
        CustomerIn,
        FulfilmentStatus,
        OrderIn,
        OrderLineIn,
        PaymentStatus,
        ProductIn,
    )

    erp = _client(sdk, app, auth(Role.INTEGRATION, sub="erp"))
    customer = _client(sdk, app, auth(Role.CUSTOMER, customer_no="C-7"))
    reviewer = _client(sdk, app, auth(Role.REVIEWER))
    payment_centre = _client(sdk, app, auth(Role.INTEGRATION, sub="payment-centre"))
    placed = datetime.now(UTC) - timedelta(hours=2)
    upserts = [
        await put_customer.asyncio_detailed("C-7", client=erp, body=CustomerIn(name="张伟")),
        await put_product.asyncio_detailed(
            "AP-X3", client=erp, body=ProductIn(name="Air purifier X3", warranty_months=24)
        ),
        await put_order.asyncio_detailed(
            "SO-7",
            client=erp,
            body=OrderIn(
                customer_no="C-7",
                currency="CNY",
                lines=[OrderLineIn(sku="AP-X3", quantity=1, unit_price=19900)],
                paid_amount=19900,
                payment_status=PaymentStatus.PAID,
                fulfilment_status=FulfilmentStatus.PAID,
                placed_at=placed,
                paid_at=placed + timedelta(minutes=1),
            ),
        ),
    ]
    assert [answer.status_code for answer in upserts] == [201, 201, 201], [a.content for a in upserts]

    created = await create_after_sales.asyncio_detailed(
        client=customer, body=AfterSalesIn(order_no="SO-7", type_=AfterSalesType.REFUND, reason_code="changed_mind")
    )
    assert created.status_code == 201, created.content
    order = created.parsed
    steps = [
        (reviewer, "approve", {}),
        (payment_centre, "payment_accepted", {"reference": "PAY-7"}),
        (payment_centre, "payment_succeeded", {"reference": "PAY-7"}),
    ]
    for caller, action, fields in steps:
        offered = {a.action for a in (await get_after_sales.asyncio(order.id, client=caller)).available_actions}
        assert action in offered, (action, offered)
        answer = await act_on_after_sales.asyncio_detailed(
            order.id, action, client=caller, body=_payload_model(sdk, "refund", action)(**fields)
        )
        assert answer.status_code == 200, (action, answer.content)

    refunded = await get_after_sales.asyncio(order.number, client=customer)
    assert (refunded.status, refunded.amount, refunded.customer_status.message) == ("refunded", 19900, "已到账")
