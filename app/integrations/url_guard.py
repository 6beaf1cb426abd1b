"""Where webhooks may go: public addresses only, so an endpoint cannot make this service call into its own network
(loopback, private ranges, link-local, cloud metadata: SSRF), unless an operator allows a host or range."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
METADATA = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "100.100.100.200", "fd00:ec2::254", "169.254.170.2")
)
"""Cloud metadata services (AWS, Alibaba Cloud, ECS task roles): refused even when their range is allowed."""


@dataclass(frozen=True, slots=True)
class AllowList:
    """Hosts (by name) and networks an operator lets webhooks reach although they are not public."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[IpNetwork, ...] = ()

    @classmethod
    def parse(cls, text: str) -> AllowList:
        """`127.0.0.1, localhost, 10.0.0.0/8`: names, addresses or CIDR ranges, comma-separated."""
        hosts, networks = set(), []
        for item in (part.strip() for part in text.split(",")):
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                hosts.add(item.lower())
        return cls(frozenset(hosts), tuple(networks))

    def permits(self, host: str, address: IpAddress) -> bool:
        if address in METADATA:
            return False
        return host.lower() in self.hosts or any(address in network for network in self.networks)


def url_problem(url: str) -> str | None:
    """What is wrong with the URL's form, before any address is looked up."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http"):
        return "the URL must start with https:// (or http://)"
    if not parts.hostname:
        return "the URL names no host"
    if parts.username or parts.password:
        return "credentials in the URL are not allowed; the signature authenticates us"
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        return "the URL's port is not a number from 0 to 65535"
    return None


async def address_problem(url: str, allowed: AllowList) -> str | None:
    """Why the URL's host resolves to an address webhooks may not reach (or does not resolve), or None."""
    host = urlsplit(url).hostname or ""
    try:
        literal = ipaddress.ip_address(host)
        addresses: list[IpAddress] = [literal]
    except ValueError:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            return f"the host '{host}' does not resolve"
        addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))
    for address in addresses:
        problem = refusal(host, address, allowed)
        if problem:
            return problem
    return None


def refusal(host: str, address: IpAddress, allowed: AllowList) -> str | None:
    """Why webhooks may not connect to `address` (which `host` resolved to), or None. An IPv6 address that carries an
    IPv4 one (mapped, compatible, NAT64, 6to4, Teredo) reaches that IPv4 address too, so both are judged."""
    judged = (address, *embedded_ipv4(address))
    if any(a in METADATA for a in judged):
        return f"'{host}' resolves to a cloud metadata address"
    if all(_public(a) for a in judged) or any(allowed.permits(host, a) for a in judged):
        return None
    return f"'{host}' resolves to {address}, which is not a public address"


def _public(address: IpAddress) -> bool:
    """Globally routable unicast: Python counts multicast (224.0.0.0/4, ff00::/8) as global, we do not."""
    return address.is_global and not address.is_multicast


_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
_NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")


def embedded_ipv4(address: IpAddress) -> tuple[ipaddress.IPv4Address, ...]:
    """The IPv4 addresses an IPv6 address leads to: IPv4-mapped and -compatible (`::ffff:a.b.c.d`, `::a.b.c.d`),
    NAT64 (RFC 6052, `64:ff9b::/96` and the local-use `64:ff9b:1::/48`), 6to4 (`2002::/16`) and Teredo (server and
    client)."""
    if not isinstance(address, ipaddress.IPv6Address):
        return ()
    bits = int(address)
    found: list[ipaddress.IPv4Address | None] = [address.ipv4_mapped, address.sixtofour]
    if address in _IPV4_COMPATIBLE or address in _NAT64_WELL_KNOWN:
        found.append(ipaddress.IPv4Address(bits & 0xFFFFFFFF))
    if address in _NAT64_LOCAL:  # a /48 prefix: the IPv4 bits sit around the reserved octet (bits 64-71)
        found.append(ipaddress.IPv4Address(((bits >> 64) & 0xFFFF) << 16 | (bits >> 40) & 0xFFFF))
    if address.teredo is not None:
        found.extend(address.teredo)
    return tuple(a for a in found if a is not None)
