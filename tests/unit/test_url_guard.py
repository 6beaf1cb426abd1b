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


@pytest.mark.parametrize(
    "address",
    [
        "::127.0.0.1",  # IPv4-compatible loopback
        "::ffff:127.0.0.1",  # IPv4-mapped loopback
        "::ffff:10.1.2.3",
        "64:ff9b::7f00:1",  # NAT64 well-known prefix to loopback
        "64:ff9b::a00:1",  # NAT64 to 10.0.0.1
        "64:ff9b:1:7f00:0:100::",  # NAT64 local-use /48 to 127.0.0.1
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "2002:c0a8:101::1",  # 6to4 of 192.168.1.1
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
        "2001:0:7f00:1:8000:63bf:80ff:fffe",  # Teredo, server 127.0.0.1, client 127.0.0.1
        "224.0.0.1",  # multicast
        "239.255.255.250",
        "ff02::1",
        "ff0e::1",  # global-scope multicast is still not a webhook target
        "::",
        "240.0.0.1",  # reserved
        "255.255.255.255",
    ],
)
def test_embedded_private_and_multicast_addresses_are_refused(address):
    assert refusal("h", ipaddress.ip_address(address), NOTHING) is not None


@pytest.mark.parametrize(
    "address",
    ["64:ff9b::a9fe:a9fe", "::ffff:169.254.169.254", "::169.254.169.254", "2002:a9fe:a9fe::", "64:ff9b::6464:64c8"],
)
def test_metadata_addresses_carried_in_ipv6_are_refused_even_when_allowed(address):
    allowed = AllowList.parse("::/0, 0.0.0.0/0, 169.254.0.0/16, 100.64.0.0/10")
    assert "metadata" in (refusal("h", ipaddress.ip_address(address), allowed) or "")


@pytest.mark.parametrize("address", ["64:ff9b::808:808", "2002:808:808::1", "::ffff:8.8.8.8", "64:ff9b:1:808:8:800::"])
def test_ipv6_forms_of_public_ipv4_addresses_pass(address):
    assert refusal("h", ipaddress.ip_address(address), NOTHING) is None


def test_the_allow_list_also_opens_the_ipv6_forms_of_what_it_names():
    allowed = AllowList.parse("127.0.0.1")
    assert refusal("x", ipaddress.ip_address("::ffff:127.0.0.1"), allowed) is None
    assert refusal("x", ipaddress.ip_address("64:ff9b::7f00:1"), allowed) is None
    assert refusal("x", ipaddress.ip_address("::ffff:127.0.0.2"), allowed) is not None
