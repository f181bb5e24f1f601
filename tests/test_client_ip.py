"""The voter's IP (SPEC §8): the connection's address; a proxy's header only from a trusted one."""

from __future__ import annotations

import pytest

from scoring.client_ip import client_ip, client_key, network_key, network_of
from scoring.settings import get_settings


@pytest.fixture
def proxies(monkeypatch):
    def trust(setting: str) -> None:
        monkeypatch.setenv("REVIEWDESK_TRUSTED_PROXIES", setting)
        get_settings.cache_clear()

    monkeypatch.setenv("REVIEWDESK_VOTE_KEY", "test-vote-key")
    trust("")
    yield trust
    get_settings.cache_clear()


@pytest.mark.parametrize(
    ("trusted", "peer", "forwarded", "voter"),
    [
        ("", None, None, "127.0.0.1"),  # Streamlit's None is a loopback peer
        ("", "203.0.113.5", None, "203.0.113.5"),
        ("", "203.0.113.5", "198.51.100.1", "203.0.113.5"),  # no proxy trusted: ignored
        ("10.0.0.0/8", "203.0.113.5", "198.51.100.1", "203.0.113.5"),  # peer not a proxy
        ("127.0.0.1/32", None, "198.51.100.1", "198.51.100.1"),  # local nginx
        ("127.0.0.1", None, "198.51.100.1", "198.51.100.1"),  # a bare address is a /32
        ("10.0.0.0/8", "10.0.0.2", "198.51.100.1, 10.0.0.7", "198.51.100.1"),  # two proxies
        ("10.0.0.0/8", "10.0.0.2", "6.6.6.6, 198.51.100.1, 10.0.0.7", "198.51.100.1"),
        ("10.0.0.0/8", "10.0.0.2", "10.0.0.9, 10.0.0.7", "10.0.0.9"),  # all ours: leftmost
        ("10.0.0.0/8", "10.0.0.2", "not-an-ip", "10.0.0.2"),  # malformed: the peer
        ("10.0.0.0/8", "10.0.0.2", "198.51.100.1,,", "10.0.0.2"),
        ("10.0.0.0/8", "10.0.0.2", "", "10.0.0.2"),
        ("::1/128", "::1", "2001:db8::5", "2001:db8::5"),
        ("10.0.0.0/8", "::ffff:10.0.0.2", "::ffff:198.51.100.1", "198.51.100.1"),  # mapped
        ("", "::ffff:203.0.113.5", None, "203.0.113.5"),
    ],
)
def test_the_voter_ip(proxies, trusted, peer, forwarded, voter):
    proxies(trusted)
    headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
    assert client_ip(peer, headers) == voter


def test_a_header_name_in_any_case_counts(proxies):
    proxies("127.0.0.1/32")
    assert client_ip(None, {"x-forwarded-for": "198.51.100.1"}) == "198.51.100.1"


@pytest.mark.parametrize(
    ("ip", "network"),
    [
        ("203.0.113.77", "v4:203.0.113.0/24"),
        ("::ffff:203.0.113.77", "v4:203.0.113.0/24"),
        ("2001:db8:1234:5678::1", "v6:2001:db8:1234::/48"),
    ],
)
def test_the_network_of_an_address(ip, network):
    assert network_of(ip) == network


def test_the_keys_are_keyed_hashes_that_never_show_the_address(proxies, monkeypatch):
    key = client_key("203.0.113.77")
    assert len(key) == 64 and "203" not in key
    assert client_key("::ffff:203.0.113.77") == key  # one client, however it is written
    assert network_key("203.0.113.1") == network_key("203.0.113.254") != network_key("203.0.114.1")
    monkeypatch.setenv("REVIEWDESK_VOTE_KEY", "another-key")
    get_settings.cache_clear()
    assert client_key("203.0.113.77") != key  # without the key, the hash cannot be recomputed
