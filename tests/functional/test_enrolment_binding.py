"""A second factor being set up belongs to one pending sign-in: the authenticator
secret that sign-in showed, or the number its SMS code was sent to, and nothing
else. Nothing is stored before the person proves the factor; of two sign-ins
confirming at once exactly one wins."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from idp import clock, db
from idp.mfa import totp
from idp.models import MfaEnrolment

from ..journeys import set_tenant_mfa
from ..mfa_steps import (
    PHONE,
    PHONE_E164,
    align_to_step,
    clone,
    enrolment_rows,
    is_enrolled,
    path_of,
    post_form,
    recovery_code_on,
    secret_on,
    sign_in,
    totp_code,
    user_named,
)
from ..rp import Browser
from ..transports import code_in
from .test_single_use_races import one_winner, race

OTHER_PHONE = "080-9876-5432"
OTHER_E164 = "+818098765432"
WRONG = "認証コードが正しくありません"
USED_UP = "この認証コードは使用できません"
KEPT_NUMBER = "末尾が5678の電話番号に認証コードを送信したばかりです"


def _signed_in(live) -> Browser:
    """A browser whose password step is done, on the first enrolment page (SMS)."""
    browser = live.browser()
    assert path_of(sign_in(browser)) == "/mfa/setup/sms"
    return browser


def _shown_secret(browser: Browser) -> str:
    return secret_on(browser.get("/mfa/setup/totp").text)


def _challenge_accepts(live, secret: str, steps: int = 1) -> bool:
    """Whether a new sign-in's authenticator challenge takes ``secret``'s code."""
    browser = live.browser()
    assert path_of(sign_in(browser)) == "/mfa/challenge"
    answer = post_form(browser, {"code": totp_code(secret, steps)})
    return answer.is_redirect and answer.headers["Location"].endswith("/account")


# -- the authenticator secret --------------------------------------------------------


def test_a_secret_shown_to_another_sign_in_never_enrols(live):
    """Someone with the password notes the secret and leaves; the person who enrols
    later gets a secret of their own, and the noted one opens nothing."""
    set_tenant_mfa(live, True)
    align_to_step()
    noted = _shown_secret(_signed_in(live))
    assert enrolment_rows(live) == []  # nothing stored before confirmation

    person = _signed_in(live)
    secret = _shown_secret(person)
    assert secret != noted
    assert 'id="recovery-code"' in person.submit({"code": totp_code(secret)}).text
    assert not _challenge_accepts(live, noted)
    assert _challenge_accepts(live, secret)


def test_a_new_display_makes_a_new_secret_and_the_old_one_dies(live):
    set_tenant_mfa(live, True)
    align_to_step()
    browser = _signed_in(live)
    first = _shown_secret(browser)
    second = _shown_secret(browser)
    assert second != first
    page = browser.submit({"code": totp_code(first)})
    assert page.status_code == 200 and WRONG in page.text and not is_enrolled(live)
    assert 'id="recovery-code"' in browser.submit({"code": totp_code(second)}).text


def test_after_a_wrong_code_the_secret_is_asked_for_not_shown(live):
    set_tenant_mfa(live, True)
    align_to_step()
    browser = _signed_in(live)
    secret = _shown_secret(browser)
    page = browser.submit({"code": f"{(int(totp_code(secret)) + 500_000) % 10**6:06d}"})
    assert page.status_code == 200 and 'id="code-error"' in page.text and WRONG in page.text
    assert secret not in page.text and "otpauth://" not in page.text and 'id="totp-uri"' not in page.text
    assert 'id="new-qr" href="/mfa/setup/totp"' in page.text
    assert 'id="recovery-code"' in browser.submit({"code": totp_code(secret)}).text


def test_the_secret_expires_with_the_sign_in(live):
    set_tenant_mfa(live, True)
    align_to_step()
    browser = _signed_in(live)
    secret = _shown_secret(browser)
    clock.advance(timedelta(minutes=16))
    align_to_step()
    assert path_of(browser.submit({"code": totp_code(secret)})) == "/login"
    again = _signed_in(live)
    assert _shown_secret(again) != secret
    assert again.submit({"code": totp_code(secret)}).status_code == 200 and not is_enrolled(live)


def test_two_sign_ins_confirming_at_once_have_one_winner(live):
    set_tenant_mfa(live, True)
    align_to_step()
    pair = [(browser, _shown_secret(browser)) for browser in (_signed_in(live), _signed_in(live))]
    answers = race(*(lambda b=b, s=s: post_form(b, {"code": totp_code(s)}) for b, s in pair))
    winner = one_winner(answers, lambda r: r.is_redirect and r.headers["Location"].endswith("/recovery-code"))
    loser = next(r for r in answers if r is not winner)
    # Asked for the factor that won, whether it lost the insert or came after it.
    assert loser.is_redirect and urlsplit(loser.headers["Location"]).path in ("/mfa/next", "/mfa/challenge")
    assert len(enrolment_rows(live)) == 1
    (_, won), (_, lost) = pair if winner is answers[0] else pair[::-1]
    assert not _challenge_accepts(live, lost)
    assert _challenge_accepts(live, won)


def test_an_unconfirmed_row_from_before_gives_way(live):
    """A draft row an earlier version left behind is no factor and is never shown."""
    set_tenant_mfa(live, True)
    align_to_step()
    old = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    with live.app.app_context():
        db.session().add(MfaEnrolment(user_id=user_named().id, method="totp", totp_secret=totp.seal_secret(old)))
        db.commit()
    browser = _signed_in(live)
    secret = _shown_secret(browser)
    assert secret != old
    recovery = recovery_code_on(browser.submit({"code": totp_code(secret)}).text)
    assert recovery and len(enrolment_rows(live)) == 1
    assert not _challenge_accepts(live, old)


# -- the SMS number ------------------------------------------------------------------


def _sent(sms, to: str = PHONE_E164, after: int = 0) -> str:
    return code_in(sms.inbox.wait_for(to, after=after).body)


def _enter_number(browser: Browser, typed: str):
    browser.get("/mfa/setup/sms")
    return browser.submit({"phone": typed})


def _next_sign_in_texts(live, sms) -> None:
    """A later sign-in's code goes to the enrolled number, never to the other one."""
    clock.advance(timedelta(seconds=61))
    assert path_of(sign_in(live.browser())) == "/mfa/challenge"
    assert sms.inbox.count(PHONE_E164) == 2 and sms.inbox.count(OTHER_E164) == 0


def test_a_number_changed_within_the_minute_is_not_taken(live, sms):
    set_tenant_mfa(live, True)
    browser = _signed_in(live)
    assert path_of(_enter_number(browser, PHONE)) == "/mfa/setup/sms/verify"
    refused = _enter_number(browser, OTHER_PHONE)
    assert path_of(refused) == "/mfa/setup/sms" and KEPT_NUMBER in refused.text
    assert 'id="enter-sent-code" href="/mfa/setup/sms/verify"' in refused.text
    page = browser.get("/mfa/setup/sms/verify")
    assert "末尾が5678の電話番号" in page.text
    assert 'id="recovery-code"' in browser.submit({"code": _sent(sms)}).text
    _next_sign_in_texts(live, sms)


def test_a_resend_goes_to_the_number_that_got_a_code(live, sms):
    set_tenant_mfa(live, True)
    browser = _signed_in(live)
    _enter_number(browser, PHONE)
    _enter_number(browser, OTHER_PHONE)  # refused: too soon
    browser.get("/mfa/setup/sms/verify")
    clock.advance(timedelta(seconds=61))
    assert path_of(browser.follow(post_form(browser, {}, form_index=1))) == "/mfa/setup/sms/verify"
    assert sms.inbox.count(PHONE_E164) == 2 and sms.inbox.count(OTHER_E164) == 0
    assert 'id="recovery-code"' in browser.submit({"code": _sent(sms, after=1)}).text


def test_a_code_confirms_only_in_the_sign_in_that_sent_it(live, sms):
    """The person's code, sent to their phone, never confirms a number someone
    else with the password typed in another browser."""
    set_tenant_mfa(live, True)
    person, other = _signed_in(live), _signed_in(live)
    _enter_number(person, PHONE)
    assert KEPT_NUMBER not in (refused := _enter_number(other, OTHER_PHONE)).text
    assert path_of(refused) == "/mfa/setup/sms" and sms.inbox.count(OTHER_E164) == 0
    assert path_of(other.get("/mfa/setup/sms/verify")) == "/mfa/setup/sms"  # no number in that sign-in
    assert 'id="recovery-code"' in person.submit({"code": _sent(sms)}).text
    _next_sign_in_texts(live, sms)


def test_a_code_sent_in_another_sign_in_confirms_nothing_here(live, sms):
    set_tenant_mfa(live, True)
    person, other = _signed_in(live), _signed_in(live)
    _enter_number(person, PHONE)
    clock.advance(timedelta(seconds=61))
    assert path_of(_enter_number(other, OTHER_PHONE)) == "/mfa/setup/sms/verify"
    code = _sent(sms, OTHER_E164)
    page = person.submit({"code": code})
    assert page.status_code == 200 and USED_UP in page.text and not is_enrolled(live)
    assert enrolment_rows(live) == []


# -- sending limits under load --------------------------------------------------------


def test_parallel_resends_send_one_sms(live, sms):
    """Ten presses of "send again" at once, with the same cookie: one SMS."""
    set_tenant_mfa(live, True)
    browser = _signed_in(live)
    assert path_of(_enter_number(browser, PHONE)) == "/mfa/setup/sms/verify"
    clock.advance(timedelta(seconds=61))
    twins = [clone(browser) for _ in range(10)]
    answers = race(*(lambda t=t: post_form(t, {}, form_index=1) for t in twins))
    assert sorted(a.status_code for a in answers) == [302] + [429] * 9
    assert sms.inbox.count(PHONE_E164) == 2
