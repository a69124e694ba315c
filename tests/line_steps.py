"""Steps shared by the line-authentication tests: a provider that trusts the test
client's address as its line gateway, browsers that come over a line, from a
second loopback address or with headers a client library would merge, and the
tenant's line settings prepared in an app context."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from sqlalchemy import select

from idp import db
from idp.models import Tenant
from idp.tenants import lines, policy

from .conftest import Live, start_live
from .rp import DEMO_CLIENT, DEMO_REDIRECT, DEMO_SECRET, Browser, RelyingParty, callback_params, parse_forms
from .transports import MailServer, SmsGateway

# The test client connects from 127.0.0.1: that address is the line gateway.
TRUSTED_PROXIES = "127.0.0.1/32"
UNTRUSTED_SOURCE = "127.0.0.2"
LINE = "CAF0123456789"
COP_LINE = "COP01234567"
OTHER_LINE = "CAF9876543210"
LINE_ERROR_JA = "回線認証エラー"
LINE_CHECKS_JA = ("「4.回線認証設定」が完了しているか", "ご利用の回線番号を正しく登録しているか")


def serve(
    database_url: str, folder: Path, key_template: Path, mail: MailServer, sms: SmsGateway, **extra: str
) -> Iterator[Live]:
    """The ``live`` provider, with line authentication on for the test client."""
    yield from start_live(
        database_url,
        folder,
        key_template,
        IDP_SMTP_URL=mail.url,
        IDP_SMS_WEBHOOK_URL=sms.url,
        IDP_LINE_TRUSTED_PROXIES=TRUSTED_PROXIES,
        **extra,
    )


# -- where a browser comes from ----------------------------------------------------


class SourceAddressAdapter(HTTPAdapter):
    """Connections that leave from a chosen local address."""

    def __init__(self, source: str) -> None:
        self.source = source
        super().__init__()

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **kwargs: Any) -> None:
        super().init_poolmanager(connections, maxsize, block, source_address=(self.source, 0), **kwargs)


def untrusted_browser(live: Live) -> Browser:
    """A browser on the second loopback address, which is not a trusted proxy."""
    session = requests.Session()
    session.mount("http://", SourceAddressAdapter(UNTRUSTED_SOURCE))
    return Browser(live.url, http=session)


def over_line(live: Live, browser: Browser, number: str = LINE) -> Browser:
    """Every request of ``browser`` carries the gateway's header naming ``number``."""
    browser.http.headers[live.settings.line_header] = number
    return browser


def line_browser(live: Live, number: str = LINE) -> Browser:
    return over_line(live, live.browser(), number)


@dataclass(frozen=True)
class RawAnswer:
    status: int
    location: str | None
    text: str


def post_with_raw_headers(browser: Browser, fields: dict[str, str], headers: list[tuple[str, str]]) -> RawAnswer:
    """Post a form of the current page with ``headers`` sent exactly as given, a
    name repeated if it is (a client library would merge them), from the
    browser's own source address; the cookies the answer sets are kept."""
    assert browser.last is not None
    form = parse_forms(browser.last.text)[0]
    target = urlsplit(urljoin(browser.last.url, form["action"] or browser.last.url))
    body = urlencode({**form["fields"], **fields}).encode()
    source = getattr(browser.http.get_adapter(browser.base), "source", None)
    conn = http.client.HTTPConnection(
        target.hostname or "", target.port, timeout=10, source_address=(source, 0) if source else None
    )
    try:
        conn.putrequest("POST", target.path + (f"?{target.query}" if target.query else ""))
        conn.putheader("Cookie", "; ".join(f"{c.name}={c.value}" for c in browser.http.cookies))
        conn.putheader("Content-Type", "application/x-www-form-urlencoded")
        conn.putheader("Content-Length", str(len(body)))
        for name, value in headers:
            conn.putheader(name, value)
        conn.endheaders(body)
        answer = conn.getresponse()
        text = answer.read().decode()
        for cookie in answer.headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            browser.http.cookies.set(name.strip(), rest.split(";")[0], domain=target.hostname, path="/")
        return RawAnswer(answer.status, answer.headers.get("Location"), text)
    finally:
        conn.close()


# -- the tenant's settings ---------------------------------------------------------


def _tenant(name: str = "demo") -> Tenant:
    tenant = db.session().scalar(select(Tenant).where(Tenant.name == name))
    assert tenant is not None, name
    return tenant


def register_line(live: Live, number: str = LINE) -> None:
    with live.app.app_context():
        lines.add(_tenant(), number, via="test")
        db.commit()


def remove_line(live: Live, number: str = LINE) -> None:
    with live.app.app_context():
        lines.remove(_tenant(), number, via="test")
        db.commit()


def set_route(live: Live, route: str) -> None:
    with live.app.app_context():
        policy.set_access_route(_tenant(), route, via="test")
        db.commit()


def set_mfa(live: Live, enabled: bool) -> None:
    with live.app.app_context():
        policy.set_mfa(_tenant(), enabled, via="test")
        db.commit()


@dataclass(frozen=True)
class TenantState:
    access_route: str
    mfa_enabled: bool
    numbers: list[str]


def tenant_state(live: Live) -> TenantState:
    with live.app.app_context():
        tenant = _tenant()
        return TenantState(tenant.access_route, tenant.mfa_enabled, lines.numbers(tenant))


def line_only_with(live: Live, number: str = LINE) -> None:
    """A line-only tenant with ``number`` registered."""
    register_line(live, number)
    set_route(live, "line-only")


# -- what a relying party receives -------------------------------------------------


@dataclass
class SignedIn:
    rp: RelyingParty
    tokens: dict[str, Any]
    claims: dict[str, Any]


def tokens_for(rp: RelyingParty, response: requests.Response) -> SignedIn:
    """Redeem the code the provider sent the browser back with, and check the ID token."""
    return _redeemed(rp, callback_params(response))


def tokens_at(rp: RelyingParty, location: str) -> SignedIn:
    """The same for the client's redirect URI with its code, as a Location named it."""
    assert location.startswith(rp.client.redirect_uri + "?"), location
    return _redeemed(rp, {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()})


def _redeemed(rp: RelyingParty, params: dict[str, str]) -> SignedIn:
    tokens = rp.exchange(params)
    return SignedIn(rp, tokens, rp.verify_id_token(tokens["id_token"], tokens["access_token"]))


def rp_sign_in(live: Live, browser: Browser, email: str, password: str) -> SignedIn:
    rp = live.rp()
    return tokens_for(rp, browser.login(rp.authorization_url(), email, password))


# -- the protocol endpoints, raw -----------------------------------------------------


def _token_endpoint(live: Live, data: dict[str, str]) -> requests.Response:
    return requests.post(live.url + "/token", data=data, auth=(DEMO_CLIENT, DEMO_SECRET), timeout=10)


def redeem(live: Live, rp: RelyingParty, code: str) -> requests.Response:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": DEMO_REDIRECT}
    return _token_endpoint(live, {**data, "code_verifier": rp.verifier or ""})


def refresh(live: Live, refresh_token: str) -> requests.Response:
    return _token_endpoint(live, {"grant_type": "refresh_token", "refresh_token": refresh_token})


def userinfo(live: Live, access_token: str) -> requests.Response:
    return requests.get(live.url + "/userinfo", headers={"Authorization": f"Bearer {access_token}"}, timeout=10)


def introspect(live: Live, token: str) -> dict[str, Any]:
    answer = requests.post(live.url + "/introspect", data={"token": token}, auth=(DEMO_CLIENT, DEMO_SECRET), timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()
