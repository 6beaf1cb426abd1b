"""Inbound events per second: the CRM posts signed `customer.upserted` events to POST /v1/inbound/crm, each with
its own webhook-id, so every request is verified, stored, deduplicated and applied."""

from __future__ import annotations

import json
import secrets
from base64 import b64encode
from datetime import UTC, datetime

import httpx
from standardwebhooks import Webhook

from bench.load import Send

SOURCE = "crm"


def new_secret() -> str:
    return "whsec_" + b64encode(secrets.token_bytes(32)).decode()


def inbound_secrets(secret: str) -> str:
    """The value of AFTERSALES_INBOUND_SECRETS for the service under test."""
    return json.dumps({SOURCE: secret})


def customer_events(client: httpx.AsyncClient, service_url: str, secret: str, prefix: str) -> Send:
    """A new customer per request, signed when sent (the timestamp must be fresh)."""
    signer = Webhook(secret)

    async def send(index: int) -> httpx.Response:
        webhook_id = f"{prefix}-{index:08d}"
        data = {
            "customer_no": f"C-IN-{prefix}-{index:07d}",
            "name": "Inbound customer",
            "phone": "+86 138 0013 8000",
            "level": "regular",
            "region": "CN-31",
            "contact_channels": [],
        }
        body = json.dumps({"type": "customer.upserted", "data": data})
        now = datetime.now(UTC)
        headers = {
            "content-type": "application/json",
            "webhook-id": webhook_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signer.sign(webhook_id, now, body),
        }
        return await client.post(f"{service_url}/v1/inbound/{SOURCE}", content=body, headers=headers)

    return send
