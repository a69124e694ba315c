"""The authorization endpoint refuses what it must (OIDC Core §3.1.2, RFC 6749
§4.1.2.1, RFC 9207, RFC 9700): errors go back to the client only at a
registered redirect URI and always carry ``iss``; otherwise the person sees a page."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests

from idp import clock

from ..rp import DEMO_REDIRECT, callback_params, pkce_pair
from .helpers import TIMEOUT, authorize_url, public_client, redirect_target, signed_in_code


def get(url: str, **kwargs: object) -> requests.Response:
    return requests.get(url, allow_redirects=False, timeout=TIMEOUT, **kwargs)  # type: ignore[arg-type]


def assert_error_redirect(live, response: requests.Response, error: str, state: str | None = "st-123") -> None:
    assert response.is_redirect, (response.status_code, response.text[:300])
    assert redirect_target(response) == DEMO_REDIRECT
    params = callback_params(response)
    assert params["error"] == error, params
    assert params["iss"] == live.url, "RFC 9207: every authorization response carries iss"
    assert params.get("state") == state
    assert "code" not in params


def assert_error_page(response: requests.Response) -> None:
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert response.headers["Content-Type"].startswith("text/html")
    assert "Traceback" not in response.text


WRONG_REDIRECTS = [
    "http://evil.example/callback",
    DEMO_REDIRECT + "/extra",
    DEMO_REDIRECT + "/",
    "http://127.0.0.1:8080/Callback",
    "http://127.0.0.1:8080/CALLBACK",
    DEMO_REDIRECT + "?next=http://evil.example/",
    DEMO_REDIRECT + "#fragment",
    "http://127.0.0.1:8081/callback",
    "https://127.0.0.1:8080/callback",
]


@pytest.mark.parametrize("redirect_uri", WRONG_REDIRECTS, ids=range(len(WRONG_REDIRECTS)))
def test_redirect_uri_must_match_exactly(live, redirect_uri):
    assert_error_page(get(authorize_url(live, redirect_uri=redirect_uri)))


def test_wrong_redirect_uri_is_refused_even_with_a_session(live):
    _, browser = signed_in_code(live)
    response = browser.get(authorize_url(live, redirect_uri=DEMO_REDIRECT + "/extra"))
    assert_error_page(response)


def test_missing_redirect_uri_gets_a_page_not_the_registered_uri(live):
    assert_error_page(get(authorize_url(live, redirect_uri=None)))


def test_unknown_client_gets_a_page(live):
    assert_error_page(get(authorize_url(live, client_id="no-such-client")))


def test_unsupported_response_type_redirects_with_iss_to_a_registered_uri(live):
    assert_error_redirect(live, get(authorize_url(live, response_type="token")), "unsupported_response_type")


def test_unsupported_response_type_with_unregistered_uri_gets_a_page(live):
    response = get(authorize_url(live, response_type="token", redirect_uri="http://evil.example/cb"))
    assert_error_page(response)


def test_missing_response_type_never_redirects_to_an_unregistered_uri(live):
    response = get(authorize_url(live, response_type=None, redirect_uri="http://evil.example/cb"))
    assert_error_page(response)


def test_prompt_none_without_session_answers_login_required(live):
    assert_error_redirect(live, get(authorize_url(live, prompt="none")), "login_required")


def test_prompt_none_with_session_gives_a_code(live):
    _, browser = signed_in_code(live)
    response = browser.get(authorize_url(live, prompt="none"))
    params = callback_params(response)
    assert "code" in params and params["iss"] == live.url and params["state"] == "st-123"


def test_request_object_is_refused(live):
    assert_error_redirect(live, get(authorize_url(live, request="eyJhbGciOiJub25lIn0.e30.")), "request_not_supported")


def test_request_uri_is_refused(live):
    response = get(authorize_url(live, request_uri="https://evil.example/req"))
    assert_error_redirect(live, response, "request_uri_not_supported")


def test_invalid_max_age_is_refused(live):
    assert_error_redirect(live, get(authorize_url(live, max_age="-1")), "invalid_request")


def test_max_age_older_than_the_sign_in_asks_to_sign_in_again(live):
    _, browser = signed_in_code(live)
    clock.advance(timedelta(seconds=120))
    response = browser.get(authorize_url(live, max_age="60"))
    assert response.status_code == 200 and 'name="password"' in response.text
    # Signing in again satisfies the request: a code whose auth_time is fresh.
    response = browser.submit({"email": "user@demo.example", "password": "Demo-pass-2026"})
    assert "code" in callback_params(response)


def test_max_age_younger_than_the_sign_in_gives_a_code(live):
    _, browser = signed_in_code(live)
    clock.advance(timedelta(seconds=30))
    assert "code" in callback_params(browser.get(authorize_url(live, max_age="60")))


def test_prompt_none_with_max_age_exceeded_answers_login_required(live):
    _, browser = signed_in_code(live)
    clock.advance(timedelta(seconds=120))
    response = browser.get(authorize_url(live, max_age="60", prompt="none"))
    assert_error_redirect(live, response, "login_required")


def test_prompt_login_asks_to_sign_in_again(live):
    _, browser = signed_in_code(live)
    response = browser.get(authorize_url(live, prompt="login"))
    assert response.status_code == 200 and 'name="password"' in response.text


# -- PKCE (RFC 7636, RFC 9700 §2.1.1) -------------------------------------------


def test_public_client_without_pkce_is_refused(live):
    client_id = public_client(live)
    response = get(authorize_url(live, client_id=client_id))
    assert_error_redirect(live, response, "invalid_request")


def test_public_client_with_plain_pkce_is_refused(live):
    client_id = public_client(live)
    response = get(authorize_url(live, client_id=client_id, code_challenge="a" * 43, code_challenge_method="plain"))
    assert_error_redirect(live, response, "invalid_request")


def test_pkce_challenge_without_method_is_refused(live):
    # RFC 7636 §4.3 would default to plain, which is not supported.
    response = get(authorize_url(live, code_challenge="a" * 43))
    assert_error_redirect(live, response, "invalid_request")


def test_public_client_with_s256_gets_tokens_without_a_secret(live):
    client_id = public_client(live)
    verifier, challenge = pkce_pair()
    code, _ = signed_in_code(live, client_id=client_id, code_challenge=challenge, code_challenge_method="S256")
    response = requests.post(
        live.url + "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": DEMO_REDIRECT,
            "client_id": client_id,
            "code_verifier": verifier,
        },
        timeout=TIMEOUT,
    )
    assert response.status_code == 200, response.text
    assert "id_token" in response.json()


@pytest.mark.parametrize("name", ["nonce", "code_challenge", "prompt", "max_age"])
def test_a_repeated_parameter_is_refused_at_the_registered_redirect(live, name):
    """RFC 6749 §3.1, for the parameters authlib does not check itself."""
    rp = live.rp()
    url = rp.authorization_url(prompt="login", max_age="60")
    value = {"nonce": "n2", "code_challenge": "x" * 43, "prompt": "login", "max_age": "30"}[name]
    answer = requests.get(f"{url}&{name}={value}", allow_redirects=False, timeout=10)
    params = callback_params(answer)
    assert params["error"] == "invalid_request" and params["iss"] == live.url
