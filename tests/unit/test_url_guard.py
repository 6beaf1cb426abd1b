"""Where webhooks may go: public addresses, what an operator allows, never cloud metadata — checked when an
endpoint is saved and again at every connection."""

from __future__ import annotations

import ipaddress

import pytest

from app.integrations.url_guard import AllowList, refusal, url_problem
from app.integrations.webhook_sender import GuardedResolver

NOTHING = AllowList()


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("8.8.8.8", False),
        ("2001:4860:4860::8888", False),
        ("127.0.0.1", True),
        ("10.0.0.1", True),
        ("172.16.5.4", True),
        ("192.168.0.1", True),
        ("100.64.0.1", True),  # carrier-grade NAT
        ("169.254.1.1", True),
        ("::1", True),
        ("fd00::1", True),
        ("0.0.0.0", True),  # noqa: S104 - an address under test, not a bind
    ],
)
def test_only_public_addresses_pass_by_default(address, refused):
    assert (refusal("h", ipaddress.ip_address(address), NOTHING) is not None) is refused


def test_the_allow_list_opens_hosts_and_ranges_but_never_metadata():
    allowed = AllowList.parse("hooks.internal, 10.0.0.0/8, 169.254.0.0/16")
    assert refusal("x", ipaddress.ip_address("10.2.3.4"), allowed) is None
    assert refusal("hooks.internal", ipaddress.ip_address("192.168.9.9"), allowed) is None
    assert refusal("x", ipaddress.ip_address("192.168.9.9"), allowed) is not None
    assert "metadata" in (refusal("x", ipaddress.ip_address("169.254.169.254"), allowed) or "")
    assert "metadata" in (refusal("x", ipaddress.ip_address("100.100.100.200"), allowed) or "")


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/", "https:///path", "https://user:pw@example.com/", "https://example.com:99999/"],
)
def test_malformed_urls_are_named(url):
    assert url_problem(url) is not None


async def test_the_connection_resolver_refuses_what_a_name_points_at_now():
    with pytest.raises(OSError, match="no address webhooks may reach"):
        await GuardedResolver(NOTHING).resolve("localhost", 80)
    found = await GuardedResolver(AllowList.parse("127.0.0.1,::1")).resolve("localhost", 80)
    assert found and all(ipaddress.ip_address(r["host"]).is_loopback for r in found)
