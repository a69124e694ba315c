"""Hosted forms take form bodies only. A page's form posted as JSON (or any body
that is not a form) answers a localized 400 page, never a 500: Flask-WTF would
read a JSON body as form data, where a field may hold a number, a list or an
object. Every form page is posted to in the state that reaches its form."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
import requests

from ..conftest import Live
from ..line_steps import set_mfa
from ..mfa_steps import (
    align_to_step,
    enrol_totp,
    fail_sign_ins,
    mail_link,
    path_of,
    secret_on,
    sign_in,
    totp_code,
)
from ..rp import DEMO_HOLDER, DEMO_USER, Browser, text_of
from ..transports import MailServer

NOT_A_FORM_JA = "この画面は、画面のフォームから送信された内容のみ受け付けます。"
NOT_A_FORM_EN = "This page accepts only what its own form sends."
# A value of every type a form field never holds, under the names the pages use.
BODY = {
    "csrf_token": {"a": 1},
    "email": 1,
    "password": [1, 2],
    "password_confirm": None,
    "current_password": True,
    "interaction": 1.5,
    "code": 123456,
    "phone": [],
    "recovery_code": {},
    "saved": 1,
    "remember": 1,
    "mfa": 1,
    "route": 1,
    "stage": 1,
    "number": 1,
}
# Protocol endpoints answer RFC 6749 errors of their own; /authorize is a redirect.
PROTOCOL = {"/authorize", "/token", "/revoke", "/introspect", "/userinfo"}

Step = Callable[[Live, MailServer], Browser]


def _anonymous(live: Live, mail: MailServer) -> Browser:
    return live.browser()


def _holder(live: Live, mail: MailServer) -> Browser:
    browser = live.browser()
    assert path_of(sign_in(browser, DEMO_HOLDER)) == "/account"
    return browser


def _enrolling(live: Live, mail: MailServer) -> Browser:
    set_mfa(live, True)
    browser = live.browser()
    assert path_of(sign_in(browser)) == "/mfa/setup/sms"
    return browser


def _enrolling_sms(live: Live, mail: MailServer) -> Browser:
    browser = _enrolling(live, mail)
    browser.get("/mfa/setup/sms")
    assert path_of(browser.submit({"phone": "090-1234-5678"})) == "/mfa/setup/sms/verify"
    return browser


def _enrolling_totp(live: Live, mail: MailServer) -> Browser:
    browser = _enrolling(live, mail)
    browser.get("/mfa/setup/totp")
    return browser


def _recovery_code_shown(live: Live, mail: MailServer) -> Browser:
    align_to_step()
    browser = _enrolling(live, mail)
    secret = secret_on(browser.get("/mfa/setup/totp").text)
    assert path_of(browser.submit({"code": totp_code(secret)})) == "/mfa/recovery-code"
    return browser


def _recovery_code_saved(live: Live, mail: MailServer) -> Browser:
    browser = _recovery_code_shown(live, mail)
    assert path_of(browser.submit({"saved": "y"})) == "/mfa/done"
    return browser


def _challenged(live: Live, mail: MailServer) -> Browser:
    set_mfa(live, True)
    enrol_totp(live)
    browser = live.browser()
    assert path_of(sign_in(browser)) == "/mfa/challenge"
    return browser


def _holding_reset_link(live: Live, mail: MailServer) -> Browser:
    browser = live.browser()
    browser.get("/password/forgot")
    browser.submit({"email": DEMO_USER})
    assert path_of(browser.get(mail_link(live, mail))) == "/password/reset"
    return browser


def _holding_unlock_link(live: Live, mail: MailServer) -> Browser:
    fail_sign_ins(live, 10)
    browser = live.browser()
    assert path_of(browser.get(mail_link(live, mail))) == "/unlock"
    return browser


PAGES: dict[str, Step] = {
    "/login": _anonymous,
    "/account/login": _anonymous,
    "/password/forgot": _anonymous,
    "/password/reset": _holding_reset_link,
    "/unlock": _holding_unlock_link,
    "/logout": _holder,
    "/account/reauthenticate": _holder,
    "/account/mfa": _holder,
    "/account/access-route": _holder,
    "/account/forget-browser": _holder,
    "/account/password": _holder,
    "/admin/lines": _holder,
    "/admin/lines/remove": _holder,
    "/mfa/setup/sms": _enrolling,
    "/mfa/setup/sms/verify": _enrolling_sms,
    "/mfa/setup/totp": _enrolling_totp,
    "/mfa/resend/enrol": _enrolling_sms,
    "/mfa/challenge": _challenged,
    "/mfa/recovery": _challenged,
    "/mfa/resend/login": _challenged,
    "/mfa/recovery-code": _recovery_code_shown,
    "/mfa/done": _recovery_code_saved,
}


def _refused(answer: requests.Response, sentence: str = NOT_A_FORM_JA) -> None:
    assert answer.status_code == 400, (answer.status_code, answer.text[:300])
    assert answer.headers["Content-Type"].startswith("text/html")
    assert sentence in text_of(answer.text)


@pytest.mark.parametrize("path", list(PAGES))
def test_a_form_posted_as_json_is_a_400_page(live, mail, sms, path):
    browser = PAGES[path](live, mail)
    _refused(browser.http.post(live.url + path, json=BODY, allow_redirects=False, timeout=10))


def test_the_login_page_in_english_and_other_bodies(live):
    _refused(requests.post(live.url + "/login?lang=en", json={"email": 1}, timeout=10), NOT_A_FORM_EN)
    _refused(requests.post(live.url + "/login", json=[1, 2], timeout=10))
    plain = {"Content-Type": "text/plain"}
    _refused(requests.post(live.url + "/login", data="email=a@b.c&password=x", headers=plain, timeout=10))


def test_every_other_page_refuses_a_json_post_in_any_state(live):
    """Every page that takes a post, including those not reached in their form's
    state above, refuses a body that is not a form before anything else."""
    posted = {rule.rule for rule in live.app.url_map.iter_rules() if "POST" in (rule.methods or ())}
    others = sorted(posted - PROTOCOL - set(PAGES))
    assert others, "the pages above are a selection: the rest are checked here"
    for rule in others:
        path = re.sub(r"<[^>]+>", "x", rule)
        _refused(requests.post(live.url + path, json=BODY, allow_redirects=False, timeout=10))
