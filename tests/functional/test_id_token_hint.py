"""OIDC Core §3.1.2.1: an id_token_hint naming someone other than the signed-in
person is not answered with that person's code."""

from __future__ import annotations

from ..rp import DEMO_HOLDER, DEMO_USER, callback_params


def _id_token_of(live, email):
    rp, browser = live.rp(), live.browser()
    token = rp.exchange(callback_params(browser.login(rp.authorization_url(), email=email)))
    return token["id_token"]


def test_prompt_none_with_the_hint_of_another_user_needs_login(live):
    holder_hint = _id_token_of(live, DEMO_HOLDER)
    rp, browser = live.rp(), live.browser()
    rp.exchange(callback_params(browser.login(rp.authorization_url(), email=DEMO_USER)))

    answer = callback_params(browser.get(rp.authorization_url(prompt="none", id_token_hint=holder_hint)))
    assert answer["error"] == "login_required"
    assert answer["iss"] == live.url and answer["state"] == rp.state


def test_prompt_none_with_the_users_own_hint_succeeds(live):
    rp, browser = live.rp(), live.browser()
    first = rp.exchange(callback_params(browser.login(rp.authorization_url(), email=DEMO_USER)))
    answer = callback_params(browser.get(rp.authorization_url(prompt="none", id_token_hint=first["id_token"])))
    assert "code" in answer
