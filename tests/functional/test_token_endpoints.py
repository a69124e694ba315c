"""Revocation (RFC 7009), introspection (RFC 7662), userinfo (OIDC Core §5.3,
RFC 6750) and RP-initiated logout (OIDC RP-Initiated Logout 1.0)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

import requests

from idp import clock

from ..rp import DEMO_REDIRECT, callback_params, parse_forms
from .helpers import (
    TIMEOUT,
    authorize_url,
    code_flow,
    confidential_client,
    introspect,
    post,
    refresh,
    signed_in_code,
    userinfo,
)


def revoke(live, token: str, hint: str | None = None, client=("demo-rp", "demo-rp-secret")):  # type: ignore[no-untyped-def]
    data = {"token": token, **({"token_type_hint": hint} if hint else {})}
    return post(live, "/revoke", data, auth=client)


# -- revocation -------------------------------------------------------------------


def test_revoking_the_access_token(live):
    _, tokens = code_flow(live)
    response = revoke(live, tokens["access_token"], "access_token")
    assert response.status_code == 200
    assert userinfo(live, tokens["access_token"]).status_code == 401
    assert introspect(live, tokens["access_token"]) == {"active": False}


def test_revoking_the_refresh_token_revokes_its_grant(live):
    _, tokens = code_flow(live)
    assert revoke(live, tokens["refresh_token"], "refresh_token").status_code == 200
    response = refresh(live, tokens["refresh_token"])
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    # RFC 7009 §2.1: the access tokens of the same grant go too.
    assert userinfo(live, tokens["access_token"]).status_code == 401


def test_revoking_with_a_wrong_hint_still_revokes(live):
    _, tokens = code_flow(live)
    assert revoke(live, tokens["refresh_token"], "access_token").status_code == 200
    assert introspect(live, tokens["refresh_token"]) == {"active": False}


def test_a_client_cannot_revoke_another_clients_token(live):
    secret = confidential_client(live)
    _, tokens = code_flow(live)
    response = revoke(live, tokens["access_token"], client=("other-rp", secret))
    assert response.status_code == 200  # RFC 7009 §2.2: same answer as for an unknown token
    assert userinfo(live, tokens["access_token"]).status_code == 200
    assert refresh(live, tokens["refresh_token"]).status_code == 200


def test_revoking_an_unknown_token_is_200(live):
    assert revoke(live, "no-such-token").status_code == 200


def test_revoking_a_client_credentials_token(live):
    response = post(live, "/token", {"grant_type": "client_credentials"}, auth=("demo-rp", "demo-rp-secret"))
    access = response.json()["access_token"]
    assert introspect(live, access)["active"] is True
    assert revoke(live, access).status_code == 200
    assert introspect(live, access) == {"active": False}


def test_revocation_needs_client_authentication(live):
    _, tokens = code_flow(live)
    response = post(live, "/revoke", {"token": tokens["access_token"]})
    assert response.status_code in (400, 401) and response.json()["error"] == "invalid_client"
    assert userinfo(live, tokens["access_token"]).status_code == 200


# -- introspection ----------------------------------------------------------------


def test_introspecting_an_active_access_token(live):
    _, tokens = code_flow(live)
    body = introspect(live, tokens["access_token"])
    assert body["active"] is True
    assert body["client_id"] == "demo-rp" and body["iss"] == live.url
    assert "openid" in body["scope"].split() and body["exp"] > body["iat"]


def test_introspecting_an_active_refresh_token(live):
    _, tokens = code_flow(live)
    body = introspect(live, tokens["refresh_token"])
    assert body["active"] is True and body["client_id"] == "demo-rp"


def test_introspecting_a_used_refresh_token(live):
    _, tokens = code_flow(live)
    assert refresh(live, tokens["refresh_token"]).status_code == 200
    assert introspect(live, tokens["refresh_token"]) == {"active": False}


def test_introspecting_an_expired_access_token(live):
    _, tokens = code_flow(live)
    clock.advance(timedelta(seconds=live.settings.access_token_ttl + 1))
    assert introspect(live, tokens["access_token"]) == {"active": False}


def test_introspecting_another_clients_token_says_inactive(live):
    secret = confidential_client(live)
    _, tokens = code_flow(live)
    assert introspect(live, tokens["access_token"], "other-rp", secret) == {"active": False}
    assert introspect(live, tokens["refresh_token"], "other-rp", secret) == {"active": False}


def test_introspecting_garbage_says_inactive(live):
    assert introspect(live, "x" * 5000) == {"active": False}
    assert introspect(live, "a.b.c") == {"active": False}


def test_introspection_needs_client_authentication(live):
    _, tokens = code_flow(live)
    response = post(live, "/introspect", {"token": tokens["access_token"]})
    assert response.status_code in (400, 401) and response.json()["error"] == "invalid_client"


# -- userinfo ---------------------------------------------------------------------


def test_userinfo_get_and_post_with_a_bearer_header(live):
    _, tokens = code_flow(live)
    headers = {"Authorization": "Bearer " + tokens["access_token"]}
    for method in ("GET", "POST"):
        response = requests.request(method, live.url + "/userinfo", headers=headers, timeout=TIMEOUT)
        assert response.status_code == 200, (method, response.text)
        assert response.json()["email"] == "user@demo.example"


def test_userinfo_post_with_the_token_in_the_form_body(live):
    _, tokens = code_flow(live)
    response = post(live, "/userinfo", {"access_token": tokens["access_token"]})
    assert response.status_code == 200 and response.json()["email"] == "user@demo.example"


def test_userinfo_without_a_token(live):
    response = requests.get(live.url + "/userinfo", timeout=TIMEOUT)
    assert response.status_code == 401
    # RFC 6750 §3.1: no error code when the request carried no credentials.
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_userinfo_with_an_invalid_token(live):
    for token in ("nonsense", "a.b.c", "x" * 5000):
        response = userinfo(live, token)
        assert response.status_code == 401
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_userinfo_with_an_expired_token(live):
    _, tokens = code_flow(live)
    clock.advance(timedelta(seconds=live.settings.access_token_ttl + 1))
    response = userinfo(live, tokens["access_token"])
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_userinfo_refuses_an_id_token(live):
    _, tokens = code_flow(live)
    assert userinfo(live, tokens["id_token"]).status_code == 401


def test_userinfo_refuses_a_client_credentials_token(live):
    response = post(live, "/token", {"grant_type": "client_credentials"}, auth=("demo-rp", "demo-rp-secret"))
    assert userinfo(live, response.json()["access_token"]).status_code == 401


# -- RP-initiated logout ----------------------------------------------------------


def signed_in(live):  # type: ignore[no-untyped-def]
    """A browser with a session and the ID token its relying party got."""
    rp, browser = live.rp(), live.browser()
    tokens = rp.exchange(callback_params(browser.login(rp.authorization_url())))
    return browser, tokens


def is_signed_out(live, browser) -> bool:  # type: ignore[no-untyped-def]
    response = browser.get(authorize_url(live, prompt="none"))
    return callback_params(response).get("error") == "login_required"


def test_logout_with_hint_redirects_to_the_registered_uri_with_state(live):
    browser, tokens = signed_in(live)
    query = urlencode(
        {"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": DEMO_REDIRECT, "state": "bye-1"}
    )
    response = browser.get("/logout?" + query)
    assert response.status_code == 302
    assert response.headers["Location"] == DEMO_REDIRECT + "?state=bye-1"
    assert is_signed_out(live, browser)


def test_logout_to_an_unregistered_uri_does_not_redirect(live):
    browser, tokens = signed_in(live)
    query = urlencode({"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": "http://evil.example/"})
    response = browser.get("/logout?" + query)
    assert not response.is_redirect
    assert "evil.example" not in response.headers.get("Location", "")
    assert response.status_code in (200, 400)


def test_logout_without_hint_asks_for_confirmation(live):
    browser, _ = signed_in(live)
    query = urlencode({"post_logout_redirect_uri": DEMO_REDIRECT, "client_id": "demo-rp"})
    page = browser.get("/logout?" + query)
    assert page.status_code == 200 and not page.is_redirect
    forms = parse_forms(page.text)
    assert forms and "csrf_token" in forms[0]["fields"]
    assert not is_signed_out(live, browser)
    browser.get("/logout?" + query)
    confirmed = browser.submit({})
    assert not confirmed.is_redirect  # no hint: no redirect to the client (§3)
    assert is_signed_out(live, browser)


def test_logout_confirmation_needs_the_csrf_token(live):
    browser, _ = signed_in(live)
    response = browser.http.post(live.url + "/logout", data={}, allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 200
    assert not is_signed_out(live, browser)


def test_logout_with_a_forged_hint_is_refused(live):
    browser, tokens = signed_in(live)
    header, payload, _ = tokens["id_token"].split(".")
    response = browser.get("/logout?" + urlencode({"id_token_hint": f"{header}.{payload}.AAAA"}))
    assert response.status_code == 400 and not response.is_redirect
    assert not is_signed_out(live, browser)


def test_logout_revokes_grants_made_through_the_session_except_offline_access(live):
    rp, browser = live.rp(scope="openid email"), live.browser()
    online = rp.exchange(callback_params(browser.login(rp.authorization_url())))
    code, _ = signed_in_code(live, browser)  # offline_access grant through the same session
    assert code
    response = browser.get("/logout?" + urlencode({"id_token_hint": online["id_token"]}))
    assert not response.is_redirect
    assert userinfo(live, online["access_token"]).status_code == 401


def test_an_access_token_is_no_id_token_hint(live):
    browser, tokens = signed_in(live)
    query = urlencode({"id_token_hint": tokens["access_token"], "post_logout_redirect_uri": DEMO_REDIRECT})
    response = browser.get("/logout?" + query)
    assert response.status_code == 400 and not response.is_redirect
    assert not is_signed_out(live, browser)
