"""RP-Initiated Logout §6: a logout request whose id_token_hint names someone
other than the person signed in here is confirmed by that person first, so a
link carrying the sender's own ID token cannot sign a victim out."""

from __future__ import annotations

from urllib.parse import urlencode

from ..rp import DEMO_HOLDER, DEMO_REDIRECT, DEMO_USER, callback_params, parse_forms
from .helpers import authorize_url, refresh


def _signed_in(live, email):  # type: ignore[no-untyped-def]
    """A browser signed in as ``email`` and the tokens of a grant made through
    its session (no offline_access: logout revokes it)."""
    rp, browser = live.rp(scope="openid profile email"), live.browser()
    tokens = rp.exchange(callback_params(browser.login(rp.authorization_url(), email=email)))
    return browser, tokens


def _has_session(live, browser) -> bool:  # type: ignore[no-untyped-def]
    return "code" in callback_params(browser.get(authorize_url(live, prompt="none")))


def test_a_hint_naming_someone_else_asks_the_signed_in_person_first(live):
    victim, victim_tokens = _signed_in(live, DEMO_USER)
    _, attacker_tokens = _signed_in(live, DEMO_HOLDER)
    query = urlencode({"id_token_hint": attacker_tokens["id_token"], "post_logout_redirect_uri": DEMO_REDIRECT})

    page = victim.get("/logout?" + query)

    assert page.status_code == 200 and not page.is_redirect
    assert "csrf_token" in parse_forms(page.text)[0]["fields"]
    assert _has_session(live, victim)
    assert refresh(live, victim_tokens["refresh_token"]).status_code == 200


def test_the_person_may_still_confirm_that_logout(live):
    victim, _ = _signed_in(live, DEMO_USER)
    _, attacker_tokens = _signed_in(live, DEMO_HOLDER)
    victim.get("/logout?" + urlencode({"id_token_hint": attacker_tokens["id_token"]}))
    victim.submit({})
    assert not _has_session(live, victim)


def test_the_signed_in_persons_own_hint_signs_out_at_once(live):
    browser, tokens = _signed_in(live, DEMO_USER)
    response = browser.get("/logout?" + urlencode({"id_token_hint": tokens["id_token"]}))
    assert not parse_forms(response.text)
    assert not _has_session(live, browser)
    assert refresh(live, tokens["refresh_token"]).status_code == 400
