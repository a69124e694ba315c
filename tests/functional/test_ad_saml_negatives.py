"""ADFS answers that must sign nobody in (SAML Core §3.2.2, Profiles §4.1.4):
each bad answer is built from a good one by the pysaml2 IdP (or lxml) and
posted to our ACS; each gets a page with an error id that is also in the
audit log, and the browser stays signed out."""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from werkzeug.serving import make_server

from idp import clock, create_app

from ..ad_steps import UPN, connect, link_ad, post_answer, signed_out, to_adfs
from ..adfs import Adfs, Answer, Request_
from ..conftest import Live
from ..mfa_steps import audit_events, path_of
from ..rp import DEMO_USER, Browser
from ..services import free_port

NOBODY_JA = "ログインは行われていません。"
STRANGER = "eve@corp.example"


@pytest.fixture
def connection_id(live: Live, adfs: Adfs, mail) -> str:  # type: ignore[no-untyped-def]
    found = connect(live, adfs, mail)
    link_ad(live, DEMO_USER, found)
    return found


def _started(live: Live, adfs: Adfs, connection_id: str) -> tuple[Browser, Request_]:
    browser = live.browser()
    return browser, adfs.receive(to_adfs(browser, "/login/ad", connection_id))


def _refused(live: Live, browser: Browser, page, failure: str, successes: int = 0) -> dict:  # type: ignore[no-untyped-def]
    assert page.status_code == 400, (page.status_code, page.text[-600:])
    assert f'data-failure="{failure}"' in page.text and NOBODY_JA in page.text
    error_id = re.search(r'id="error-id">([^<]+)<', page.text).group(1)  # type: ignore[union-attr]
    assert signed_out(browser)
    (event,) = [e for e in audit_events(live, "login.failure") if e.detail.get("error_id") == error_id]
    assert event.detail["method"] == "saml" and event.email is None
    assert len([e for e in audit_events(live, "login.success") if e.email == DEMO_USER]) == successes
    return event.detail


SPOILED: dict[str, tuple[Callable[[Adfs, Request_], Answer], str, str]] = {
    "unsigned assertion": (lambda adfs, rq: adfs.answer(rq, UPN, sign=False), "assertion", "not signed"),
    "signature wrapping": (
        lambda adfs, rq: Adfs.wrapped(adfs.answer(rq, STRANGER), victim_upn=UPN),
        "assertion",
        "1 assertion",
    ),
    "wrong certificate": (lambda adfs, rq: adfs.answer(rq, UPN, rogue=True), "assertion", "Signature validation"),
    "wrong audience": (
        lambda adfs, rq: adfs.answer(rq, UPN, audience="https://other-sp.example/metadata"),
        "assertion",
        "udience",
    ),
    "wrong destination": (
        lambda adfs, rq: adfs.answer(rq, UPN, destination=rq.acs_url + "/elsewhere"),
        "assertion",
        "Destination",
    ),
    "sha1 signature": (lambda adfs, rq: adfs.answer(rq, UPN, sha1=True), "assertion", "eprecated"),
    "unsolicited": (
        lambda adfs, rq: adfs.answer(None, UPN, acs_url=rq.acs_url, sp_entity_id=rq.sp_entity_id, in_response_to=None),
        "state",
        "unsolicited",
    ),
    "wrong InResponseTo": (
        lambda adfs, rq: adfs.answer(rq, UPN, in_response_to="_" + secrets.token_hex(16)),
        "state",
        "InResponseTo",
    ),
}


@pytest.mark.parametrize("spoil", SPOILED, ids=lambda name: name.replace(" ", "-"))
def test_a_bad_answer_signs_nobody_in(live: Live, adfs: Adfs, connection_id: str, spoil: str) -> None:
    make, failure, detail = SPOILED[spoil]
    browser, request = _started(live, adfs, connection_id)

    page = post_answer(browser, make(adfs, request))

    assert detail in _refused(live, browser, page, failure)["detail"]


def test_an_expired_assertion_signs_nobody_in(live: Live, adfs: Adfs, connection_id: str) -> None:
    browser, request = _started(live, adfs, connection_id)
    answer = adfs.answer(request, UPN)
    # Posted after its NotOnOrAfter (60 minutes) and the allowed skew, on the provider's clock.
    clock.advance(timedelta(minutes=61) + timedelta(seconds=live.settings.saml_skew))

    page = post_answer(browser, answer)

    assert _refused(live, browser, page, "assertion")["detail"] == "expired"


def test_a_good_answer_signs_in_once(live: Live, adfs: Adfs, connection_id: str) -> None:
    browser, request = _started(live, adfs, connection_id)
    answer = adfs.answer(request, UPN)
    assert request.sig_alg == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"

    assert path_of(post_answer(browser, answer)) == "/account"

    # Again, from a browser that did start a sign-in of its own: the assertion was used.
    other, _ = _started(live, adfs, connection_id)
    assert "seen" in _refused(live, other, post_answer(other, answer), "replay", successes=1)["detail"]


@pytest.fixture
def second_app(live: Live) -> Iterator[str]:
    """Another process's view of the same provider: its own app on the same database and settings."""
    app = create_app(live.settings)
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    thread.join(5)
    app.extensions["idp.engine"].dispose()


def test_an_assertion_used_on_one_node_is_refused_on_another(
    live: Live, adfs: Adfs, connection_id: str, second_app: str
) -> None:
    browser, request = _started(live, adfs, connection_id)
    answer = adfs.answer(request, UPN)
    assert path_of(post_answer(browser, answer)) == "/account"

    # The same answer, posted by another browser that started its sign-in at the other node.
    other = Browser(second_app)
    request = adfs.receive(to_adfs(other, "/login/ad", connection_id))
    elsewhere = Answer(answer.acs_url.replace(live.url, second_app), answer.saml_response)
    page = post_answer(other, elsewhere)

    assert page.status_code == 400 and 'data-failure="replay"' in page.text
    assert path_of(other.get("/account")) == "/account/login"
