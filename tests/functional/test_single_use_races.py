"""Two requests racing to use the same single-use secret: exactly one wins, and the
other gets the page for a used code or link (never an error page)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import requests

from idp import clock, db
from idp.account import messages
from idp.auth import login

from ..journeys import set_tenant_mfa
from ..mfa_steps import (
    PHONE_E164,
    align_to_step,
    enrol_sms,
    enrol_totp,
    mail_link,
    path_of,
    post_form,
    recovery_code_on,
    sign_in,
    totp_code,
    user_named,
)
from ..rp import DEMO_USER, Browser
from ..transports import code_in

ROUNDS = 3


def race(*attempts: Callable[[], requests.Response]) -> list[requests.Response]:
    """Run the attempts at the same moment, each in its own thread."""
    barrier = threading.Barrier(len(attempts))
    answers: list[requests.Response | BaseException | None] = [None] * len(attempts)

    def run(i: int) -> None:
        barrier.wait()
        try:
            answers[i] = attempts[i]()
        except BaseException as e:  # noqa: BLE001 (reported below, in the test's thread)
            answers[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(attempts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    for answer in answers:
        if not isinstance(answer, requests.Response):
            raise AssertionError(f"an attempt failed: {answer!r}")
    return answers  # type: ignore[return-value]


def one_winner(answers: list[requests.Response], won: Callable[[requests.Response], bool]) -> requests.Response:
    assert all(a.status_code < 500 for a in answers), [a.status_code for a in answers]
    winners = [a for a in answers if won(a)]
    assert len(winners) == 1, [(a.status_code, a.headers.get("Location")) for a in answers]
    return winners[0]


def _signed_in_twice(live, path: str) -> tuple[Browser, Browser]:
    """Two browsers whose password step is done, both on ``path``."""
    pair = live.browser(), live.browser()
    for browser in pair:
        sign_in(browser)
        assert path_of(browser.get(path)) == path
    return pair


def _post(browser: Browser, fields: dict[str, str]) -> Callable[[], requests.Response]:
    return lambda: post_form(browser, fields)


def _finished(answer: requests.Response) -> bool:
    return answer.is_redirect and answer.headers["Location"].endswith("/account")


def test_recovery_code(live):
    set_tenant_mfa(live, True)
    _secret, code = enrol_totp(live)
    for _ in range(ROUNDS):
        a, b = _signed_in_twice(live, "/mfa/recovery")
        answers = race(_post(a, {"recovery_code": code}), _post(b, {"recovery_code": code}))
        winner = one_winner(answers, lambda r: r.is_redirect and r.headers["Location"].endswith("/recovery-code"))
        loser = next(r for r in answers if r is not winner)
        assert 'id="recovery-error"' in loser.text
        browser = a if winner is answers[0] else b
        code = recovery_code_on(browser.follow(winner).text)  # the replacement, for the next round


def test_sms_code(live, sms):
    set_tenant_mfa(live, True)
    enrol_sms(live)
    for round_ in range(ROUNDS):
        clock.advance(timedelta(seconds=61))  # the resend throttle
        a, b = _signed_in_twice(live, "/mfa/challenge")
        code = code_in(sms.inbox.wait_for(PHONE_E164, after=round_).body)
        answers = race(_post(a, {"code": code}), _post(b, {"code": code}))
        one_winner(answers, _finished)
        assert sms.inbox.count(PHONE_E164) == round_ + 1  # the second sign-in used the same code


def test_totp_code(live):
    set_tenant_mfa(live, True)
    secret, _recovery = enrol_totp(live)
    align_to_step()
    for _ in range(ROUNDS):
        clock.advance(timedelta(seconds=30))  # a step no round has used
        a, b = _signed_in_twice(live, "/mfa/challenge")
        code = totp_code(secret)
        one_winner(race(_post(a, {"code": code}), _post(b, {"code": code})), _finished)


# A mailed link is opened in this many browsers, which all post at once.
LINK_RACERS = 5


def _opened(live, link: str) -> list[Browser]:
    browsers = [live.browser() for _ in range(LINK_RACERS)]
    for browser in browsers:
        assert browser.get(link).status_code == 200
    return browsers


def test_reset_link(live, mail):
    for round_ in range(ROUNDS):
        browser = live.browser()
        browser.get("/password/forgot")
        browser.submit({"email": DEMO_USER})
        browsers = _opened(live, mail_link(live, mail, after=round_))
        passwords = [f"Racer-{i}-{round_}-2027" for i in range(len(browsers))]
        answers = race(
            *(_post(x, {"password": p, "password_confirm": p}) for x, p in zip(browsers, passwords, strict=True))
        )
        winner = one_winner(answers, lambda r: 'id="reset-done"' in r.text)
        for loser in (r for r in answers if r is not winner):
            assert loser.status_code == 400 and 'id="link-invalid"' in loser.text
        kept = passwords[answers.index(winner)]
        for lost in (p for p in passwords if p != kept):
            assert sign_in(live.browser(), password=lost).status_code == 401
        assert path_of(sign_in(live.browser(), password=kept)) == "/account"


def _locked_with_unlock_link(live) -> str:
    """Lock the account and make its unlock link, as the tenth failure would."""
    with live.app.test_request_context():
        user = user_named()
        assert login.lock(user)
        body = messages.unlock_mail(user).body
        db.commit()
    return next(word for word in body.split() if word.startswith(live.url))


def test_unlock_link(live):
    for _ in range(ROUNDS):
        browsers = _opened(live, _locked_with_unlock_link(live))
        answers = race(*(_post(x, {}) for x in browsers))
        winner = one_winner(answers, lambda r: 'id="unlocked"' in r.text)
        for loser in (r for r in answers if r is not winner):
            assert loser.status_code == 400 and 'id="link-invalid"' in loser.text
        assert path_of(sign_in(live.browser())) == "/account"
