"""Real upstream sign-in providers on loopback, for the upstream-account broker.

``oidc_upstreams``: panva's oidc-provider (node, server.mjs) serving Google,
Microsoft (multi-tenant, templated issuer), docomo d-account and NTT East
Business ID; ``facebook_upstream``: a Facebook Login and Graph API of our own
(facebook.py). Both are started once per test process; tests register their
clients and accounts on them. ``python -m tests.upstream`` runs them by hand.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .facebook import FacebookAccount, FacebookUpstream, appsecret_proof
from .oidc import PROVIDERS, Account, Client, OidcUpstream, OidcUpstreams, UpstreamError

__all__ = [
    "PROVIDERS",
    "Account",
    "Client",
    "FacebookAccount",
    "FacebookUpstream",
    "OidcUpstream",
    "OidcUpstreams",
    "appsecret_proof",
    "facebook_upstream",
    "oidc_upstreams",
]


@pytest.fixture(scope="session")
def oidc_upstreams(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcUpstreams]:
    """The four OpenID providers; node modules are installed on first use."""
    upstreams = OidcUpstreams(tmp_path_factory.mktemp("upstreams") / "node.log")
    try:
        upstreams.start()
    except UpstreamError as err:
        pytest.fail(str(err), pytrace=False)
    yield upstreams
    upstreams.stop()


@pytest.fixture(scope="session")
def facebook_upstream() -> Iterator[FacebookUpstream]:
    upstream = FacebookUpstream().start()
    yield upstream
    upstream.stop()
