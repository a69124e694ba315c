"""X-Request-Id: a trusted proxy's id is kept, anyone else's replaced; every
response and error page carries it, and so do the request's log lines."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator

import pytest
import requests

from ..conftest import Live, start_live
from ..mfa_steps import post_form
from ..rp import DEMO_PASSWORD, DEMO_USER
from .helpers import authorize_url

GENERATED = re.compile(r"[0-9a-f]{32}")
TIMEOUT = 10


@pytest.fixture
def behind_proxy(database_url, tmp_path, key_template, mail, sms) -> Iterator[Live]:
    """A provider that trusts this machine as its reverse proxy."""
    yield from start_live(
        database_url, tmp_path, key_template, IDP_LINE_TRUSTED_PROXIES="127.0.0.1/32", IDP_SMTP_URL=mail.url
    )


def get(live: Live, path: str, **headers: str) -> requests.Response:
    return requests.get(live.url + path, headers=headers, timeout=TIMEOUT, allow_redirects=False)


def logged(caplog: pytest.LogCaptureFixture, name: str, request_id: str) -> logging.LogRecord:
    """The record of ``name`` for the request; a request's line is written once its
    response has been sent, so it may come a moment after the answer."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        for record in caplog.records:
            if record.name == name and getattr(record, "request_id", None) == request_id:
                return record
        time.sleep(0.02)
    raise AssertionError(f"no {name} line for {request_id}")


def page_request_id(html: str) -> str | None:
    found = re.search(r'<code id="request-id">([^<]+)</code>', html)
    return found.group(1) if found else None


def test_an_untrusted_peer_cannot_choose_the_id(live):
    answer = get(live, "/healthz", **{"X-Request-Id": "chosen-by-the-client"})
    assert GENERATED.fullmatch(answer.headers["X-Request-Id"])
    assert get(live, "/healthz").headers["X-Request-Id"] != answer.headers["X-Request-Id"]


def test_a_trusted_proxy_passes_its_id_on(behind_proxy):
    assert get(behind_proxy, "/login", **{"X-Request-Id": "lb-7f3a:42"}).headers["X-Request-Id"] == "lb-7f3a:42"
    for odd in ("two words", "x" * 200, '"><script>'):
        replaced = get(behind_proxy, "/healthz", **{"X-Request-Id": odd}).headers["X-Request-Id"]
        assert GENERATED.fullmatch(replaced), odd


def test_error_pages_show_the_request_id(live):
    missing = get(live, "/no-such-page")
    assert missing.status_code == 404
    assert page_request_id(missing.text) == missing.headers["X-Request-Id"]
    refused = get(live, "/authorize?client_id=unknown-client&response_type=code")
    assert refused.status_code == 400
    assert page_request_id(refused.text) == refused.headers["X-Request-Id"]
    protocol = requests.post(live.url + "/token", data={"grant_type": "password"}, timeout=TIMEOUT)
    assert protocol.status_code in (400, 401) and GENERATED.fullmatch(protocol.headers["X-Request-Id"])


def test_the_proxy_id_is_on_the_page_and_in_the_log(behind_proxy, caplog):
    caplog.set_level(logging.INFO, logger="idp")
    page = get(behind_proxy, "/no-such-page?ticket=Tk-secret-1", **{"X-Request-Id": "edge-123"})
    assert page_request_id(page.text) == "edge-123"
    line = logged(caplog, "idp.request", "edge-123")
    assert (line.method, line.path, line.status, line.endpoint) == ("GET", "/no-such-page", 404, "unmatched")
    assert not any("Tk-secret-1" in r.getMessage() for r in caplog.records if r.name.startswith("idp"))


def test_the_request_line_names_the_client_and_its_address(behind_proxy, caplog):
    """Behind the trusted proxy, the address is the client it forwarded for (as the
    audit log and the throttle see it); the client id once the request named a
    registered one; the path without its query."""
    caplog.set_level(logging.INFO, logger="idp")
    forwarded = {"X-Forwarded-For": "203.0.113.7"}
    answer = requests.get(authorize_url(behind_proxy), headers=forwarded, timeout=TIMEOUT, allow_redirects=False)
    rid = answer.headers["X-Request-Id"]
    line = logged(caplog, "idp.request", rid)
    assert (line.path, line.endpoint, line.client_id) == ("/authorize", "oidc.authorize", "demo-rp")
    assert line.client == "203.0.113.7" and line.duration_ms >= 0


def test_an_audit_event_carries_its_request_id(live, caplog):
    caplog.set_level(logging.INFO, logger="idp")
    browser = live.browser()
    browser.get("/login")
    posted = post_form(browser, {"email": DEMO_USER, "password": DEMO_PASSWORD})
    event = next(r for r in caplog.records if r.name == "idp.audit" and r.event == "login.success")
    assert event.request_id == posted.headers["X-Request-Id"]
    assert event.audit["source_ip"] == "127.0.0.1" and DEMO_PASSWORD not in caplog.text
