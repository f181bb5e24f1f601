"""Who is voting: the client's IP address from the connection, and the keyed hashes we keep.

The public vote allows one vote per client IP per campaign per day (SPEC §8). The address
comes from the connection (Streamlit's ``st.context.ip_address``, ``None`` for a loopback
peer); a reverse proxy's ``X-Forwarded-For`` header is believed only when the connection
itself comes from a proxy the operator named as trusted (``REVIEWDESK_TRUSTED_PROXIES``):
anybody can send that header, so honouring it from an untrusted peer would let one browser
vote once per invented address.

The IP itself is never stored. China's Personal Information Protection Law treats an IP
address as personal information, and the rule needs only "same client or not": an HMAC of
the address with a server secret (``REVIEWDESK_VOTE_KEY``) answers that, and cannot be
turned back into the address without the key (a plain hash could, by trying all 2^32 IPv4
addresses). The network's hash (/24, /48) lets organisers see bursts from one network.

The page passes the peer address and the headers in; this module never imports Streamlit.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Mapping
from functools import lru_cache

from scoring.settings import get_settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

LOOPBACK = "127.0.0.1"
"""What a loopback peer is: Streamlit reports ``None`` for 127.0.0.1 and ::1."""
FORWARDED_FOR = "x-forwarded-for"


def _address(text: str) -> IPAddress | None:
    """``text`` as an IP address (IPv4-mapped IPv6 as the IPv4 it carries); None if it is none."""
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@lru_cache(maxsize=8)
def _networks(setting: str) -> tuple[IPNetwork, ...]:
    """The trusted proxies' networks; a malformed item is refused at once, naming it."""
    networks = []
    for item in (part.strip() for part in setting.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(
                f"REVIEWDESK_TRUSTED_PROXIES: {item!r} is not an address or a network (CIDR)"
            ) from None
    return tuple(networks)


def trusted_networks() -> tuple[IPNetwork, ...]:
    """The networks of ``get_settings().trusted_proxies``."""
    return _networks(get_settings().trusted_proxies)


def _trusted(address: IPAddress, networks: tuple[IPNetwork, ...]) -> bool:
    return any(address.version == net.version and address in net for net in networks)


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    """A header by name, ignoring case (Streamlit's headers are case-insensitive; a dict not)."""
    if not headers:
        return None
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def client_ip(peer: str | None, headers: Mapping[str, str] | None = None) -> str:
    """The voter's IP: the peer, or what a trusted proxy says it forwarded for.

    ``X-Forwarded-For`` lists ``client, proxy1, proxy2``, each proxy appending the address
    it received from. Read from the right, every address still inside the trusted networks
    is one of our proxies; the first one that is not is the client as far as we can know
    (anything further left was written by the client itself). A header that does not parse
    is ignored: the peer counts, which at worst makes one proxy's clients share a vote.
    """
    peer_address = _address(peer or LOOPBACK)
    if peer_address is None:  # not an address at all (a socket path, say): count it as is
        return (peer or LOOPBACK).strip()
    networks = trusted_networks()
    forwarded = _header(headers, FORWARDED_FOR)
    if not forwarded or not networks or not _trusted(peer_address, networks):
        return str(peer_address)
    hops = [_address(part) for part in forwarded.split(",")]
    if any(hop is None for hop in hops):
        return str(peer_address)
    for hop in reversed(hops):
        assert hop is not None
        if not _trusted(hop, networks):
            return str(hop)
    return str(hops[0])  # every hop is a proxy of ours: the leftmost is the closest we know


def network_of(ip: str) -> str:
    """The network a vote's burst check groups by: ``v4:a.b.c.0/24`` or ``v6:<48 bits>/48``."""
    address = _address(ip)
    if address is None:
        return f"raw:{ip}"
    if address.version == 4:
        return f"v4:{ipaddress.ip_network(f'{address}/24', strict=False)}"
    return f"v6:{ipaddress.ip_network(f'{address}/48', strict=False)}"


def _keyed(text: str) -> str:
    key = get_settings().ensure_vote_key().encode("utf-8")
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def client_key(ip: str) -> str:
    """The stored stand-in for the voter's IP: HMAC-SHA256 (hex) keyed with the vote key."""
    address = _address(ip)
    return _keyed(str(address) if address is not None else ip)


def network_key(ip: str) -> str:
    """HMAC-SHA256 (hex) of the voter's network (``network_of``), for the burst warnings."""
    return _keyed(network_of(ip))
