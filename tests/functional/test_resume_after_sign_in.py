"""The authorization request that waited for a sign-in is answered by the post
that completes it: the code goes straight to the client, one redirect fewer,
after the same checks the authorization endpoint makes."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import func, select

from idp import clock, db
from idp.models import AuthorizationCode
from idp.oidc.clients import CACHE_SECONDS

from ..client_steps import ok, relying_party, web_client
from ..rp import DEMO_PASSWORD, DEMO_REDIRECT, DEMO_USER, callback_params

PAST_CACHE = timedelta(seconds=CACHE_SECONDS + 1)  # every worker has read the registration again


def codes_for(live, client_id: str) -> int:  # type: ignore[no-untyped-def]
    with live.app.app_context():
        return db.session().scalar(
            select(func.count()).select_from(AuthorizationCode).where(AuthorizationCode.client_id == client_id)
        )


def test_the_password_post_answers_with_the_code(live):
    rp, browser = live.rp(), live.browser()
    page = browser.get(rp.authorization_url())
    assert urlsplit(page.url).path == "/login"
    answer = browser.submit({"email": DEMO_USER, "password": DEMO_PASSWORD})
    assert answer.request.method == "POST" and urlsplit(answer.url).path == "/login"
    assert answer.headers["Location"].startswith(DEMO_REDIRECT + "?")
    params = callback_params(answer)
    assert params["state"] == rp.state and params["iss"] == live.url
    tokens = rp.exchange(params)
    claims = rp.verify_id_token(tokens["id_token"], tokens["access_token"])
    assert claims["amr"] == ["pwd"] and claims["nonce"] == rp.nonce


def test_a_client_deleted_while_its_user_signs_in_gets_no_code(live):
    client_id, secret = web_client(live, "--auth-method", "client_secret_basic", name="Leaving")
    rp, browser = relying_party(live, client_id, secret, "client_secret_basic"), live.browser()
    assert urlsplit(browser.get(rp.authorization_url()).url).path == "/login"
    ok(live, "client", "delete", client_id)
    clock.advance(PAST_CACHE)
    answer = browser.submit({"email": DEMO_USER, "password": DEMO_PASSWORD})
    assert answer.status_code == 400 and answer.headers["Content-Type"].startswith("text/html")
    assert "Location" not in answer.headers
    assert codes_for(live, client_id) == 0


def test_a_resumed_request_is_not_resumed_again(live):
    """After the sign-in answered it, the same request with the same interaction
    id (from history, a log, another tab) is a new request: prompt=login asks
    for the password again rather than count the earlier sign-in."""
    rp, browser = live.rp(), live.browser()
    request_url = rp.authorization_url(prompt="login")
    page = browser.get(request_url)
    interaction = parse_qs(urlsplit(page.url).query)["interaction"][0]
    answer = browser.submit({"email": DEMO_USER, "password": DEMO_PASSWORD})
    assert callback_params(answer)["code"]
    again = browser.get(f"{request_url}&interaction={interaction}")
    assert not again.is_redirect and urlsplit(again.url).path == "/login"
    assert 'name="password"' in again.text
