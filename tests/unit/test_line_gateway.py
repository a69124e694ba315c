"""The line gateway's header counts only from a trusted peer; X-Forwarded-For is
trusted hop by hop from the right, never for its left-most value; IPv4 and IPv6.
Requests are built with werkzeug's EnvironBuilder, so any peer address and any
header chain can be tried without a network."""

from __future__ import annotations

import ipaddress
import logging

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from idp.tenants.gateway import MAX_VALUE, client_address, line_of

HEADER = "X-Line-Id"
LINE = "CAF0123456789"


def proxies(*cidrs: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(c) for c in cidrs)


V4 = proxies("127.0.0.1/32", "10.0.0.0/8")
V6 = proxies("2001:db8:aa::/64", "::1/128")
BOTH = V4 + V6


def request(peer: str, *headers: tuple[str, str]) -> Request:
    builder = EnvironBuilder(path="/login", method="POST", environ_base={"REMOTE_ADDR": peer})
    for name, value in headers:
        builder.headers.add(name, value)
    return builder.get_request()


def xff(value: str) -> tuple[str, str]:
    return ("X-Forwarded-For", value)


def line(value: str = LINE) -> tuple[str, str]:
    return (HEADER, value)


# -- client_address -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("peer", "chain", "client"),
    [
        # An untrusted peer is the client, whatever it claims.
        ("192.0.2.7", "10.0.0.1", "192.0.2.7"),
        ("2001:db8:bb::7", "2001:db8:aa::1", "2001:db8:bb::7"),
        # A trusted peer without a chain is itself the client.
        ("127.0.0.1", None, "127.0.0.1"),
        # Behind one trusted proxy: the hop it saw.
        ("127.0.0.1", "192.0.2.7", "192.0.2.7"),
        ("2001:db8:aa::1", "2001:db8:bb::7", "2001:db8:bb::7"),
        ("2001:db8:aa::1", "[2001:db8:bb::7]", "2001:db8:bb::7"),
        ("127.0.0.1", "2001:DB8:BB:0::7", "2001:db8:bb::7"),  # written canonically
        ("127.0.0.1", "10.0.0.2, 10.0.0.3", "10.0.0.2"),  # all proxies: the first one
        # Hop by hop from the right: trusted hops are skipped, the first
        # untrusted one is the client; what it wrote to its left is not believed.
        ("127.0.0.1", "203.0.113.9, 192.0.2.7", "192.0.2.7"),
        ("127.0.0.1", "203.0.113.9, 192.0.2.7, 10.1.2.3", "192.0.2.7"),
        ("127.0.0.1", "203.0.113.9,192.0.2.7,10.1.2.3,10.4.5.6", "192.0.2.7"),
        # A client posing as one of the proxies by writing its address first.
        ("127.0.0.1", "10.9.9.9, 192.0.2.7", "192.0.2.7"),
        ("::1", "2001:db8:aa::5, 2001:db8:bb::7", "2001:db8:bb::7"),
        # Mixed families, and an IPv4-mapped IPv6 peer counted as its IPv4 address.
        ("::1", "192.0.2.7, 10.0.0.2", "192.0.2.7"),
        ("::ffff:127.0.0.1", "192.0.2.7", "192.0.2.7"),
        ("127.0.0.1", "2001:db8:bb::7", "2001:db8:bb::7"),
    ],
)
def test_client_address(peer: str, chain: str | None, client: str) -> None:
    headers = [xff(chain)] if chain is not None else []
    assert client_address(request(peer, *headers), BOTH) == client


def test_several_forwarded_headers_are_one_chain() -> None:
    req = request("127.0.0.1", xff("203.0.113.9"), xff("192.0.2.7, 10.0.0.2"))
    assert client_address(req, BOTH) == "192.0.2.7"


@pytest.mark.parametrize(
    "chain",
    [
        "unknown",
        "192.0.2.7, not-an-address",
        "192.0.2.7,,10.0.0.2",  # an empty hop
        "192.0.2.7:4711",  # a port
        "[2001:db8:bb::7]:4711",
        "192.0.2.300",
        "192.0.2.7, 10.0.0.2 10.0.0.3",
        "::ffff:zz",
    ],
)
def test_a_malformed_chain_has_no_client(chain: str) -> None:
    assert client_address(request("127.0.0.1", xff(chain)), BOTH) is None


def test_a_malformed_hop_left_of_the_client_is_not_read() -> None:
    """Only the hops up to the first untrusted one are read; what the client
    wrote before it is neither believed nor held against it."""
    assert client_address(request("127.0.0.1", xff("garbage, 192.0.2.7")), BOTH) == "192.0.2.7"


# -- line_of ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("peer", "chain"),
    [
        ("127.0.0.1", None),
        ("10.20.30.40", None),
        ("::1", None),
        ("2001:db8:aa::99", None),
        ("::ffff:10.0.0.1", None),  # IPv4-mapped
        ("127.0.0.1", "192.0.2.7"),
        ("2001:db8:aa::1", "2001:db8:bb::7, 2001:db8:aa::2"),
        ("127.0.0.1", "6.6.6.6, 10.0.0.1, 192.0.2.7, 10.0.0.2"),
    ],
)
def test_the_line_from_a_trusted_peer(peer: str, chain: str | None) -> None:
    headers = [line(), *([xff(chain)] if chain else [])]
    assert line_of(request(peer, *headers), HEADER, BOTH) == LINE


def test_the_value_is_taken_without_surrounding_space() -> None:
    assert line_of(request("127.0.0.1", line(f"  {LINE} ")), HEADER, V4) == LINE
    assert line_of(request("127.0.0.1", line("COP01234567")), HEADER, V4) == "COP01234567"


@pytest.mark.parametrize(
    "peer",
    ["127.0.0.2", "192.0.2.7", "11.0.0.1", "::2", "2001:db8:ab::1", "::ffff:127.0.0.2", "fe80::1"],
)
def test_the_header_from_an_untrusted_peer_is_ignored_and_logged(peer: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="idp.line"):
        assert line_of(request(peer, line()), HEADER, BOTH) is None
    assert any(peer in r.getMessage() and "untrusted" in r.getMessage() for r in caplog.records)


def test_a_trusted_address_in_the_chain_does_not_make_an_untrusted_peer_trusted() -> None:
    req = request("192.0.2.7", line(), xff("127.0.0.1"))
    assert line_of(req, HEADER, BOTH) is None


def test_with_no_trusted_proxies_line_authentication_is_off(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="idp.line"):
        assert line_of(request("127.0.0.1", line()), HEADER, ()) is None
    assert caplog.records


def test_only_the_configured_header_counts() -> None:
    req = request("127.0.0.1", ("X-Line-Number", LINE))
    assert line_of(req, HEADER, V4) is None
    assert line_of(req, "X-Line-Number", V4) == LINE


def test_no_header_is_no_line_and_no_noise(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="idp.line"):
        assert line_of(request("192.0.2.7"), HEADER, V4) is None
        assert line_of(request("127.0.0.1", xff("192.0.2.7")), HEADER, V4) is None
    assert not caplog.records


@pytest.mark.parametrize(
    "value",
    [
        "",
        "caf0123456789",  # the gateway writes numbers canonically
        "CAF012345678",
        "CAF01234567890",
        "COP0123456",
        "CAF-0123-456789",
        "CAF0123456789 CAF0123456789",
        f"{LINE},{LINE}",  # several values folded into one
        f"{LINE}, COP01234567",
        "X" * 10_000,
        LINE + " " * MAX_VALUE,  # oversized, even though it trims to a number
        "ＣＡＦ０１２３４５６７８９",
        "CAF0123456789\x00",
    ],
)
def test_a_malformed_value_is_no_line(value: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="idp.line"):
        assert line_of(request("127.0.0.1", line(value)), HEADER, V4) is None
    assert caplog.records


def test_several_header_values_are_no_line() -> None:
    assert line_of(request("127.0.0.1", line(), line()), HEADER, V4) is None
    assert line_of(request("127.0.0.1", line(), line("COP01234567")), HEADER, V4) is None


@pytest.mark.parametrize("chain", ["unknown", "192.0.2.7,,10.0.0.2", "192.0.2.7:80"])
def test_a_malformed_chain_behind_a_trusted_peer_is_no_line(chain: str) -> None:
    assert line_of(request("127.0.0.1", line(), xff(chain)), HEADER, V4) is None
