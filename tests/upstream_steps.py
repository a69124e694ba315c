"""A provider configured with the loopback upstreams, and the steps of a
person going through them over plain HTTP (tests/upstream)."""

from __future__ import annotations

import html
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import requests

from .conftest import Live, start_live
from .rp import Browser, parse_forms
from .services import free_port
from .transports import MailServer, SmsGateway
from .upstream import PROVIDERS, Client, FacebookUpstream, OidcUpstreams

# Configured, but its issuer is a closed port: an upstream that is down.
DOWN = "nttbizid"
WELL_KNOWN = "/.well-known/openid-configuration"


@dataclass
class Federated:
    live: Live
    oidc: OidcUpstreams
    facebook: FacebookUpstream
    clients: dict[str, Client]
    mail: MailServer

    def callback(self, provider: str) -> str:
        return f"{self.live.url}/login/{provider}/callback"


def _client(provider: str) -> Client:
    return Client(f"{provider}-{secrets.token_hex(4)}", secrets.token_urlsafe(24), "")


def serve(
    database_url: str,
    tmp_path: Path,
    key_template: Path,
    mail: MailServer,
    sms: SmsGateway,
    oidc_upstreams: OidcUpstreams,
    facebook_upstream: FacebookUpstream,
    unreachable: dict[str, str] | None = None,
) -> Iterator[Federated]:
    """(For a fixture.) A provider whose upstreams are the loopback ones; its clients there are
    registered once its callback addresses are known.

    ``unreachable``: upstreams whose issuer is an address of the test's choosing (one that
    refuses or never answers); by default ``DOWN``'s issuer is a closed port."""
    if unreachable is None:
        unreachable = {DOWN: f"http://127.0.0.1:{free_port()}/{DOWN}"}
    live_ones = [p for p in PROVIDERS if p not in unreachable]
    clients = {p: _client(p) for p in (*PROVIDERS, "facebook")}
    env = {}
    for provider, client in clients.items():
        env[f"IDP_UPSTREAM_{provider.upper()}_CLIENT_ID"] = client.client_id
        env[f"IDP_UPSTREAM_{provider.upper()}_CLIENT_SECRET"] = client.client_secret
    for provider in live_ones:
        env[f"IDP_UPSTREAM_{provider.upper()}_ISSUER"] = oidc_upstreams[provider].discovery_url.removesuffix(WELL_KNOWN)
    for provider, issuer in unreachable.items():
        env[f"IDP_UPSTREAM_{provider.upper()}_ISSUER"] = issuer
    env["IDP_UPSTREAM_FACEBOOK_AUTHORIZE_URL"] = facebook_upstream.authorize_url
    env["IDP_UPSTREAM_FACEBOOK_TOKEN_URL"] = facebook_upstream.token_url
    env["IDP_UPSTREAM_FACEBOOK_GRAPH_URL"] = facebook_upstream.graph_url
    for live in start_live(
        database_url, tmp_path, key_template, IDP_SMTP_URL=mail.url, IDP_SMS_WEBHOOK_URL=sms.url, **env
    ):
        for provider in live_ones:
            client = clients[provider]
            clients[provider] = oidc_upstreams.register_client(
                provider,
                f"{live.url}/login/{provider}/callback",
                client_id=client.client_id,
                client_secret=client.client_secret,
            )
        fb = clients["facebook"]
        clients["facebook"] = facebook_upstream.register_app(
            f"{live.url}/login/facebook/callback", app_id=fb.client_id, app_secret=fb.client_secret
        )
        yield Federated(live, oidc_upstreams, facebook_upstream, clients, mail)


def upstream_browser(browser: Browser, at: str) -> Browser:
    """The same browser (its cookies) on an upstream's pages."""
    parts = urlsplit(at)
    return Browser(f"{parts.scheme}://{parts.netloc}", http=browser.http)


def to_upstream(browser: Browser, path: str) -> str:
    """Open one of our pages that leads to an upstream; the upstream address it leads to."""
    leaving = browser.get(path)
    assert leaving.is_redirect, (leaving.status_code, leaving.text[:500])
    return leaving.headers["Location"]


def at_upstream(browser: Browser, url: str, fields: dict[str, str], form_index: int = 0) -> str:
    """The upstream's login form, filled; the address it sends the browser back to."""
    upstream = upstream_browser(browser, url)
    page = upstream.get(url)
    assert page.status_code == 200, page.text[:500]
    back = upstream.submit(fields, form_index)
    assert back.is_redirect, (back.status_code, back.text[:500])
    return back.headers["Location"]


def through(browser: Browser, path: str, fields: dict[str, str], form_index: int = 0) -> requests.Response:
    """From our page to the upstream, its form, and back to our callback."""
    return browser.get(at_upstream(browser, to_upstream(browser, path), fields, form_index))


def button(page: requests.Response, provider: str) -> str:
    """The login page's link to ``provider``."""
    found = re.search(rf'<a [^>]*data-provider="{provider}"[^>]*href="([^"]+)"', page.text)
    assert found, f"no {provider} button"
    return html.unescape(found.group(1))


def form_for(page: requests.Response, provider: str) -> int:
    forms = parse_forms(page.text)
    return next(i for i, f in enumerate(forms) if f["action"].endswith(f"/register/method/{provider}"))
