"""The line gateway: which line, if any, a request came over.

Only a peer inside IDP_LINE_TRUSTED_PROXIES may name the line, in
IDP_LINE_HEADER; a trusted proxy is trusted to drop the header when a client
sends it. With X-Forwarded-For, trust follows the same list hop by hop from
the right: the client is the first hop that is not a trusted proxy. The
left-most value is never believed for its own sake, since the client writes
it. Anything odd (several values, a malformed or oversized value, a malformed
chain, an untrusted sender) counts as no line, and is logged.

``origin()`` works all of this out once per request; the audit log, the
per-source throttle and the line policy all read it, so they agree on who sent
a request.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

from flask import Request, current_app, g, has_request_context, request
from sqlalchemy import select

from .. import db
from ..models import TenantLine
from .lines import PATTERN

log = logging.getLogger("idp.line")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_VALUE = 32


# Parsed once per address a worker meets (a few peers and proxies, mostly): every
# request asks about its peer more than once.
@lru_cache(maxsize=4096)
def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(value.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def within(value: str | None, networks: Sequence[Network]) -> bool:
    """Whether the address ``value`` lies in one of ``networks``."""
    address = _address(value or "")
    return address is not None and any(address in net for net in networks)


def client_address(request: Request, proxies: Sequence[Network]) -> str | None:
    """The address the request came from: the peer, or, behind trusted proxies,
    the first X-Forwarded-For hop from the right that is not one of them.
    None for a malformed chain."""
    peer = request.remote_addr
    if not within(peer, proxies):
        return peer
    hops = [h.strip() for part in request.headers.getlist("X-Forwarded-For") for h in part.split(",")]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            return None
        if not within(hop, proxies):
            return str(address)
    # Every hop is a trusted proxy: the request began at one of them.
    return str(_address(hops[0])) if hops else peer


def client_of(request: Request, proxies: Sequence[Network]) -> str | None:
    """The client's address as every log and count names it: the client behind
    trusted proxies, or the peer itself when their chain is malformed."""
    return client_address(request, proxies) or request.remote_addr


def line_of(request: Request, header: str, proxies: Sequence[Network]) -> str | None:
    """The line number the gateway vouches for, or None. The value itself is
    never logged: from an untrusted sender it is whatever an attacker wrote."""
    values = request.headers.getlist(header)
    if not values:
        return None
    peer = request.remote_addr
    if not within(peer, proxies):
        log.warning("line header from untrusted peer %s ignored", peer)
        return None
    if client_address(request, proxies) is None:
        log.warning("line header from %s ignored: malformed X-Forwarded-For", peer)
        return None
    value = values[0].strip()
    if len(values) != 1 or len(values[0]) > MAX_VALUE or not PATTERN.fullmatch(value):
        log.warning("malformed line header from %s ignored (%d value(s))", peer, len(values))
        return None
    return value


@dataclass
class Origin:
    """Who sent a request: the peer that connected, the client behind it, and the
    line the gateway vouches for."""

    peer: str | None
    # Behind trusted proxies, the client they forwarded for; the peer itself
    # when there are none, or when their chain is malformed.
    client: str | None
    line: str | None
    via_gateway: bool

    @cached_property
    def line_tenants(self) -> frozenset[str]:
        """The tenants the line is registered to: one query per request, and none
        without a line."""
        if self.line is None:
            return frozenset()
        return frozenset(db.session().scalars(select(TenantLine.tenant_id).where(TenantLine.number == self.line)))

    @property
    def registered_line(self) -> str | None:
        """The line, if it is registered to any tenant."""
        return self.line if self.line_tenants else None


NOWHERE = Origin(peer=None, client=None, line=None, via_gateway=False)


def origin() -> Origin:
    """This request's origin, worked out once per request; NOWHERE outside one."""
    if not has_request_context():
        return NOWHERE
    if "idp_origin" not in g:
        settings = current_app.extensions["idp.settings"]
        proxies = settings.line_trusted_proxies
        peer = request.remote_addr
        g.idp_origin = Origin(
            peer=peer,
            client=client_of(request, proxies),
            line=line_of(request, settings.line_header, proxies),
            via_gateway=within(peer, proxies),
        )
    return g.idp_origin
