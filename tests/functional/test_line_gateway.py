"""The line header through a real HTTP server: it counts only from the trusted
gateway (127.0.0.1 here). A malformed value, an unregistered line, the header
spoofed from another address (127.0.0.2), several values or an oversized one
count as no line: never ``line`` in ``amr``, never an error page for a tenant
that admits the internet, and the line error page for a line-only tenant."""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import urljoin

import pytest
import requests

from idp import db
from idp.models import Tenant
from idp.tenants import lines

from ..conftest import Live
from ..line_steps import (
    LINE,
    LINE_ERROR_JA,
    OTHER_LINE,
    UNTRUSTED_SOURCE,
    RawAnswer,
    line_browser,
    over_line,
    post_with_raw_headers,
    register_line,
    rp_sign_in,
    serve,
    set_mfa,
    set_route,
    tokens_at,
    tokens_for,
    untrusted_browser,
)
from ..mfa_steps import enrol_totp, path_of, totp_code
from ..rp import DEMO_PASSWORD, DEMO_USER, Browser, RelyingParty


@pytest.fixture
def live(database_url, tmp_path, key_template, mail, sms):
    yield from serve(database_url, tmp_path, key_template, mail, sms)


def _header(live: Live) -> str:
    return live.settings.line_header


def _post_login(live: Live, browser: Browser, headers: list[tuple[str, str]]) -> tuple[RelyingParty, RawAnswer]:
    """A relying party's sign-in whose login post carries ``headers`` exactly as
    given (names repeated); the rest of the journey is the browser's own."""
    rp = live.rp()
    assert path_of(browser.get(rp.authorization_url())) == "/login"
    return rp, post_with_raw_headers(browser, {"email": DEMO_USER, "password": DEMO_PASSWORD}, headers)


def _next_page(live: Live, browser: Browser, answer: RawAnswer) -> requests.Response:
    assert answer.status in (302, 303) and answer.location, answer.status
    return browser.get(urljoin(live.url, answer.location))


# Each way of not coming over a registered line: a browser and the headers of its login post.
NotALine = Callable[[Live], tuple[Browser, list[tuple[str, str]]]]
NOT_A_LINE: dict[str, NotALine] = {
    "malformed": lambda live: (live.browser(), [(_header(live), "CAF12345")]),
    "lower-case": lambda live: (live.browser(), [(_header(live), LINE.lower())]),
    "unregistered": lambda live: (live.browser(), [(_header(live), OTHER_LINE)]),
    "spoofed": lambda live: (untrusted_browser(live), [(_header(live), LINE)]),
    "several": lambda live: (live.browser(), [(_header(live), LINE), (_header(live), LINE)]),
    "oversized": lambda live: (live.browser(), [(_header(live), LINE + "0" * 4000)]),
    "bad-forwarded-for": lambda live: (live.browser(), [(_header(live), LINE), ("X-Forwarded-For", "unknown")]),
}


@pytest.fixture(params=sorted(NOT_A_LINE))
def not_a_line(request: pytest.FixtureRequest, live: Live) -> tuple[Browser, list[tuple[str, str]]]:
    register_line(live)
    return NOT_A_LINE[request.param](live)


def test_counts_as_no_line_where_the_internet_is_allowed(live, not_a_line):
    browser, headers = not_a_line
    rp, answer = _post_login(live, browser, headers)
    assert answer.status in (302, 303) and answer.location  # the code, straight to the client
    signed_in = tokens_at(rp, answer.location)
    assert signed_in.claims["amr"] == ["pwd"]
    assert "line_id" not in signed_in.claims


def test_does_not_replace_the_second_step(live, not_a_line):
    set_mfa(live, True)
    secret, _ = enrol_totp(live)
    browser, headers = not_a_line
    rp, answer = _post_login(live, browser, headers)
    assert path_of(_next_page(live, browser, answer)) == "/mfa/challenge"
    signed_in = tokens_for(rp, browser.submit({"code": totp_code(secret)}))
    assert signed_in.claims["amr"] == ["pwd", "otp", "mfa"] and "line_id" not in signed_in.claims


def test_a_line_only_tenant_shows_the_line_error(live, not_a_line):
    set_route(live, "line-only")
    _rp, answer = _post_login(live, *not_a_line)
    assert answer.status == 403 and answer.location is None
    assert LINE_ERROR_JA in answer.text


def test_the_spoofed_header_is_logged(live, caplog: pytest.LogCaptureFixture):
    register_line(live)
    with caplog.at_level(logging.WARNING, logger="idp.line"):
        signed_in = rp_sign_in(live, over_line(live, untrusted_browser(live)), DEMO_USER, DEMO_PASSWORD)
    assert signed_in.claims["amr"] == ["pwd"]
    assert any(UNTRUSTED_SOURCE in r.getMessage() and "untrusted" in r.getMessage() for r in caplog.records)


def test_the_untrusted_address_itself_works(live):
    """The second loopback address is a real, different peer: without the header
    it signs in like anyone on the internet."""
    assert rp_sign_in(live, untrusted_browser(live), DEMO_USER, DEMO_PASSWORD).claims["amr"] == ["pwd"]


def test_a_forwarded_client_behind_the_gateway_keeps_its_line(live):
    """The gateway forwards for its client (X-Forwarded-For names the client, not a
    proxy); the header counts because the gateway, the peer, is trusted."""
    register_line(live)
    browser = line_browser(live)
    browser.http.headers["X-Forwarded-For"] = "192.0.2.7"
    signed_in = rp_sign_in(live, browser, DEMO_USER, DEMO_PASSWORD)
    assert signed_in.claims["amr"] == ["pwd", "line"] and signed_in.claims["line_id"] == LINE


def test_a_line_of_another_tenant_is_no_line(live):
    """A number is registered per tenant: another tenant's line does not count."""
    with live.app.app_context():
        other = Tenant(name="other")
        db.session().add(other)
        db.session().flush()
        lines.add(other, OTHER_LINE, via="test")
        db.commit()
    signed_in = rp_sign_in(live, line_browser(live, OTHER_LINE), DEMO_USER, DEMO_PASSWORD)
    assert signed_in.claims["amr"] == ["pwd"] and "line_id" not in signed_in.claims
