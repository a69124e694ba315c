"""Behind an https issuer every cookie of ours is a __Host- cookie (RFC 6265bis
§4.1.3.2): Secure, Path=/, no Domain, so that no other host of the domain and no
plain-http page can set or shadow the session. Over http the names stay plain."""

from __future__ import annotations

import shutil
from http.cookies import SimpleCookie

import pytest

from idp import create_app

from ..conftest import make_settings
from ..journeys import set_tenant_mfa
from ..mfa_steps import align_to_step, enrol_totp, totp_code
from ..rp import DEMO_PASSWORD, DEMO_REDIRECT, DEMO_USER, parse_forms
from .helpers import authorize_url

HTTPS = "https://idp.example"


@pytest.fixture
def https_app(live, tmp_path):  # type: ignore[no-untyped-def]
    """The live provider's database behind an https issuer (Flask's test client, no TLS)."""
    folder = tmp_path / "https"
    shutil.copytree(live.settings.keys_dir, folder / "keys")
    app = create_app(make_settings(live.settings.database_url, folder, HTTPS))
    yield app
    app.extensions["idp.engine"].dispose()


def cookies_set(*responses) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    """Each cookie set by the responses: its name and its attributes, lower case."""
    found: dict[str, list[str]] = {}
    for response in responses:
        for header in response.headers.getlist("Set-Cookie"):
            name = next(iter(SimpleCookie(header).keys()))
            found[name] = [part.strip().lower() for part in header.split(";")[1:]]
    return found


def submit(client, path: str, fields: dict[str, str]):  # type: ignore[no-untyped-def]
    page = client.get(path, base_url=HTTPS)
    form = parse_forms(page.get_data(as_text=True))[0]["fields"]
    return page, client.post(path, data={**form, **fields}, base_url=HTTPS)


def test_every_cookie_is_a_host_cookie_behind_https(live, https_app):
    set_tenant_mfa(live, True)
    secret, _recovery = enrol_totp(live)
    align_to_step()
    client = https_app.test_client()
    login_page, signed_in = submit(client, "/login", {"email": DEMO_USER, "password": DEMO_PASSWORD})
    challenge_page, done = submit(client, "/mfa/challenge", {"code": totp_code(secret), "remember": "y"})
    assert done.status_code == 302

    cookies = cookies_set(login_page, signed_in, challenge_page, done)
    assert set(cookies) == {"__Host-idp_flow", "__Host-idp_session", "__Host-idp_remember"}
    for name, attributes in cookies.items():
        assert "secure" in attributes and "path=/" in attributes, name
        assert not any(a.startswith("domain") for a in attributes), name

    # The prefixed session is the session: the next authorization needs no login.
    url = authorize_url(live, prompt="none").replace(live.url, HTTPS)
    answer = client.get(url, base_url=HTTPS)
    assert answer.headers["Location"].startswith(DEMO_REDIRECT + "?code=")


def test_over_http_the_names_stay_plain(live):
    browser = live.browser()
    browser.login(authorize_url(live))
    assert {"idp_flow", live.settings.session_cookie} <= set(browser.http.cookies.keys())
