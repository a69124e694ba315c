"""What every response and the login page promise: security headers, cookie
flags, CSRF on forms, no account enumeration, Japanese by default."""

from __future__ import annotations

import re
import shutil
from http.cookies import SimpleCookie

import pytest
import requests

from idp import create_app

from ..conftest import make_settings
from ..rp import DEMO_PASSWORD, DEMO_USER, parse_forms
from .helpers import TIMEOUT, authorize_url, post, signed_in_code, token_request


def set_cookies(response: requests.Response) -> dict[str, str]:
    """Each Set-Cookie header of a response, by cookie name (raw header text)."""
    raw = response.raw.headers.getlist("Set-Cookie") if hasattr(response.raw, "headers") else []
    return {next(iter(SimpleCookie(h).keys())): h for h in raw}


def assert_security_headers(headers, https: bool = False) -> None:  # type: ignore[no-untyped-def]
    csp = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] in ("no-referrer", "strict-origin-when-cross-origin", "same-origin")
    assert ("Strict-Transport-Security" in headers) is https


# -- headers on every kind of response ------------------------------------------------


def test_security_headers_on_every_kind_of_response(live):
    responses = {
        "page": requests.get(live.url + "/login", timeout=TIMEOUT),
        "redirect": requests.get(authorize_url(live), allow_redirects=False, timeout=TIMEOUT),
        "error page": requests.get(authorize_url(live, client_id="nobody"), timeout=TIMEOUT),
        "not found": requests.get(live.url + "/nope", timeout=TIMEOUT),
        "discovery": requests.get(live.url + "/.well-known/openid-configuration", timeout=TIMEOUT),
        "jwks": requests.get(live.url + "/jwks", timeout=TIMEOUT),
        "token error": token_request(live, {"grant_type": "nope"}),
        "client credentials": token_request(live, {"grant_type": "client_credentials"}),
        "userinfo 401": requests.get(live.url + "/userinfo", timeout=TIMEOUT),
        "introspection": post(live, "/introspect", {"token": "x"}, auth=("demo-rp", "demo-rp-secret")),
    }
    for name, response in responses.items():
        assert response.status_code < 500, name
        try:
            assert_security_headers(response.headers)
        except (AssertionError, KeyError) as e:
            raise AssertionError(f"{name}: {dict(response.headers)}") from e


def test_pages_and_tokens_are_not_cached(live):
    assert requests.get(live.url + "/login", timeout=TIMEOUT).headers["Cache-Control"] == "no-store"
    assert token_request(live, {"grant_type": "client_credentials"}).headers["Cache-Control"] == "no-store"
    assert token_request(live, {"grant_type": "nope"}).headers["Cache-Control"] == "no-store"


def test_cookies_are_http_only_and_lax_without_secure_on_http(live):
    browser = live.browser()
    page = browser.get(authorize_url(live))
    cookies = set_cookies(page)
    response = browser.http.post(
        page.url,
        data={**parse_forms(page.text)[0]["fields"], "email": DEMO_USER, "password": DEMO_PASSWORD},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    cookies.update(set_cookies(response))
    assert live.settings.session_cookie in cookies and cookies
    for name, header in cookies.items():
        flags = header.lower()
        assert "httponly" in flags, name
        assert "samesite=lax" in flags, name
        assert "secure" not in flags.replace("samesite", ""), name


@pytest.fixture
def https_app(live, tmp_path):  # type: ignore[no-untyped-def]
    """The same database behind an https issuer (Flask's test client, no TLS needed)."""
    folder = tmp_path / "https"
    shutil.copytree(live.settings.keys_dir, folder / "keys")
    app = create_app(make_settings(live.settings.database_url, folder, "https://idp.example"))
    yield app
    app.extensions["idp.engine"].dispose()


def test_https_issuer_adds_hsts_and_secure_cookies(https_app):
    client = https_app.test_client()
    page = client.get("/login", base_url="https://idp.example")
    assert_security_headers(page.headers, https=True)
    assert "max-age=" in page.headers["Strict-Transport-Security"]
    fields = parse_forms(page.get_data(as_text=True))[0]["fields"]
    signed_in = client.post(
        "/login", data={**fields, "email": DEMO_USER, "password": DEMO_PASSWORD}, base_url="https://idp.example"
    )
    cookies = signed_in.headers.getlist("Set-Cookie") + page.headers.getlist("Set-Cookie")
    names = {c.split("=", 1)[0] for c in cookies}
    assert "__Host-" + https_app.extensions["idp.settings"].session_cookie in names
    for header in cookies:
        flags = [f.strip().lower() for f in header.split(";")]
        assert "secure" in flags and "httponly" in flags and "samesite=lax" in flags, header


# -- CSRF -----------------------------------------------------------------------------------


def is_signed_in(live, browser) -> bool:  # type: ignore[no-untyped-def]
    response = browser.get(authorize_url(live, prompt="none"))
    return "code=" in response.headers.get("Location", "")


@pytest.mark.parametrize("token", [None, "", "forged-token"], ids=["missing", "empty", "wrong"])
def test_login_without_a_valid_csrf_token_does_not_sign_in(live, token):
    browser = live.browser()
    page = browser.get("/login")
    fields = {**parse_forms(page.text)[0]["fields"], "email": DEMO_USER, "password": DEMO_PASSWORD}
    if token is None:
        fields.pop("csrf_token")
    else:
        fields["csrf_token"] = token
    response = browser.http.post(live.url + "/login", data=fields, allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 400 and not response.is_redirect
    assert live.settings.session_cookie not in set_cookies(response)
    assert not is_signed_in(live, browser)


def test_csrf_token_of_another_browser_does_not_sign_in(live):
    other = live.browser()
    stolen = parse_forms(other.get("/login").text)[0]["fields"]["csrf_token"]
    victim = live.browser()
    response = victim.http.post(
        live.url + "/login",
        data={"csrf_token": stolen, "email": DEMO_USER, "password": DEMO_PASSWORD},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert response.status_code == 400 and not is_signed_in(live, victim)


def test_login_with_a_valid_csrf_token_signs_in(live):
    _, browser = signed_in_code(live)
    assert is_signed_in(live, browser)


# -- no account enumeration -----------------------------------------------------------------


def failed_login(live, email: str) -> requests.Response:  # type: ignore[no-untyped-def]
    browser = live.browser()
    browser.get("/login")
    return browser.submit({"email": email, "password": "Not-the-password-1"})


def normalized(html: str, email: str) -> str:
    html = html.replace(email, "EMAIL")
    return re.sub(r'name="csrf_token"[^>]*value="[^"]*"', 'name="csrf_token" value="TOKEN"', html)


def test_unknown_email_and_wrong_password_get_the_same_answer(live):
    unknown = failed_login(live, "nobody@demo.example")
    known = failed_login(live, DEMO_USER)
    assert unknown.status_code == known.status_code == 401
    assert normalized(unknown.text, "nobody@demo.example") == normalized(known.text, DEMO_USER)
    assert set_cookies(unknown).keys() == set_cookies(known).keys()


# -- language ---------------------------------------------------------------------------------


def test_login_page_is_japanese_by_default(live):
    page = requests.get(live.url + "/login", timeout=TIMEOUT)
    assert '<html lang="ja">' in page.text and "ログイン" in page.text


@pytest.mark.parametrize("accept", ["en", "en-US,en;q=0.9", "en-GB"])
def test_login_page_in_english_with_accept_language(live, accept):
    page = requests.get(live.url + "/login", headers={"Accept-Language": accept}, timeout=TIMEOUT)
    assert '<html lang="en">' in page.text and "Log in" in page.text and "ログイン" not in page.text


def test_login_page_in_english_with_lang_parameter(live):
    page = requests.get(live.url + "/login?lang=en", headers={"Accept-Language": "ja"}, timeout=TIMEOUT)
    assert '<html lang="en">' in page.text and "Log in" in page.text


@pytest.mark.parametrize("accept", ["ja", "ja-JP,ja;q=0.9,en;q=0.5", "fr", "", "*"])
def test_login_page_in_japanese_otherwise(live, accept):
    page = requests.get(live.url + "/login", headers={"Accept-Language": accept}, timeout=TIMEOUT)
    assert '<html lang="ja">' in page.text and "ログイン" in page.text


def test_error_pages_follow_the_language(live):
    ja = requests.get(authorize_url(live, client_id="nobody"), timeout=TIMEOUT)
    en = requests.get(authorize_url(live, client_id="nobody"), headers={"Accept-Language": "en"}, timeout=TIMEOUT)
    assert ja.status_code == en.status_code == 400
    assert '<html lang="ja">' in ja.text and '<html lang="en">' in en.text
    assert "Traceback" not in ja.text + en.text
