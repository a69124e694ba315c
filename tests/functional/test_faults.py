"""Bad input and failures: malformed or hostile requests get RFC 6749 JSON
errors or a page in the person's language, never a 500 or a traceback; a
database that cannot be reached gives 503; a request that fails half way
leaves nothing behind; a bad setting stops the command with one line."""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
import requests

from idp import create_app

from ..conftest import make_settings
from ..rp import DEMO_REDIRECT, parse_forms, pkce_pair
from ..services import free_port
from .helpers import TIMEOUT, authorize_url, post, redeem, signed_in_code, token_request

ROOT = Path(__file__).resolve().parents[2]
DEMO_BASIC = ("demo-rp", "demo-rp-secret")
HOSTILE = ['"', "'><script>alert(1)</script>", "é日本", "\x00", "%", "%00", "a" * 5000, "\\", " ", "\r\nX-Evil: 1"]


def assert_clean(response: requests.Response, json_expected: bool | None = None) -> None:
    """No server error, nothing of the inside leaks, and the right kind of body."""
    assert response.status_code < 500, (response.status_code, response.text[:300])
    assert "Traceback" not in response.text and 'File "' not in response.text
    content_type = response.headers.get("Content-Type", "")
    if json_expected is True:
        assert content_type.startswith("application/json"), content_type
        assert "error" in response.json() or response.status_code == 200
    elif json_expected is False and not response.is_redirect:
        assert content_type.startswith("text/html"), content_type


def assert_oauth_error(response: requests.Response, status: int, error: str) -> None:
    assert_clean(response, json_expected=True)
    assert response.status_code == status, response.text
    assert response.json()["error"] == error


def raw_request(live, data: bytes) -> tuple[int, bytes]:  # type: ignore[no-untyped-def]
    """Send bytes as they are, for what an HTTP library would refuse to send."""
    parts = urlsplit(live.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=TIMEOUT) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    answer = b"".join(chunks)
    status = int(answer.split(b" ", 2)[1])
    return status, answer


# -- the token endpoint ------------------------------------------------------------


def test_get_to_token_is_405_json(live):
    response = requests.get(live.url + "/token", timeout=TIMEOUT)
    assert response.status_code == 405 and "POST" in response.headers["Allow"]
    assert_clean(response, json_expected=True)


def test_unknown_grant_type(live):
    assert_oauth_error(token_request(live, {"grant_type": "password"}), 400, "unsupported_grant_type")


def test_missing_grant_type(live):
    assert_oauth_error(token_request(live, {"code": "x"}), 400, "invalid_request")


@pytest.mark.parametrize(
    "grant_type", ['"', "é", "<b>", "a" * 3000, "\x00"], ids=["quote", "utf8", "tag", "long", "nul"]
)
def test_hostile_grant_type(live, grant_type):
    response = token_request(live, {"grant_type": grant_type})
    assert_clean(response, json_expected=True)
    assert response.status_code == 400


MULTIPART = "--x\r\nContent-Disposition: form-data; name=grant_type\r\n\r\nclient_credentials\r\n--x--\r\n"


@pytest.mark.parametrize(
    "content_type,body",
    [
        ("text/plain", "grant_type=client_credentials"),
        ("application/json", '{"grant_type": "client_credentials"}'),
        ("multipart/form-data; boundary=x", MULTIPART),
        ("application/xml", "<grant_type>client_credentials</grant_type>"),
    ],
    ids=["text", "json", "multipart", "xml"],
)
def test_token_body_must_be_form_encoded(live, content_type, body):
    response = post(live, "/token", body, headers={"Content-Type": content_type}, auth=DEMO_BASIC)
    assert_oauth_error(response, 400, "invalid_request")


def test_token_body_missing_content_type(live):
    response = post(live, "/token", b"grant_type=client_credentials", headers={"Content-Type": ""}, auth=DEMO_BASIC)
    assert_oauth_error(response, 400, "invalid_request")


def test_repeated_parameter_is_refused(live):
    body = "grant_type=client_credentials&grant_type=client_credentials"
    response = post(
        live, "/token", body, headers={"Content-Type": "application/x-www-form-urlencoded"}, auth=DEMO_BASIC
    )
    assert_oauth_error(response, 400, "invalid_request")


def test_parameter_in_query_and_body_is_refused(live):
    response = requests.post(
        live.url + "/token?grant_type=refresh_token",
        data={"grant_type": "authorization_code", "code": "c", "redirect_uri": DEMO_REDIRECT},
        auth=DEMO_BASIC,
        timeout=TIMEOUT,
    )
    assert_oauth_error(response, 400, "invalid_request")


@pytest.mark.parametrize("name", ['a"b', "é"], ids=["quote", "utf8"])
def test_repeated_hostile_parameter_name_is_refused(live, name):
    body = urlencode([("grant_type", "client_credentials"), (name, "1"), (name, "2")])
    response = post(
        live, "/token", body, headers={"Content-Type": "application/x-www-form-urlencoded"}, auth=DEMO_BASIC
    )
    assert_oauth_error(response, 400, "invalid_request")


def test_huge_parameter_is_refused(live):
    response = token_request(live, {"grant_type": "client_credentials", "scope": "x" * 200_000})
    assert_clean(response, json_expected=True)
    assert response.status_code in (400, 413)


def test_many_parameters_are_refused_or_ignored(live):
    fields = {f"p{i}": "v" for i in range(3000)}
    response = token_request(live, {"grant_type": "client_credentials", **fields})
    assert_clean(response, json_expected=True)


def test_non_utf8_body(live):
    response = post(
        live,
        "/token",
        b"grant_type=authorization_code&code=\xff\xfe&redirect_uri=\xc3\x28",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        auth=DEMO_BASIC,
    )
    assert_clean(response, json_expected=True)
    assert response.status_code == 400


def test_nul_in_parameters(live):
    for data in (
        {"grant_type": "authorization_code", "code": "a\x00b", "redirect_uri": DEMO_REDIRECT},
        {"grant_type": "refresh_token", "refresh_token": "a\x00b"},
        {"grant_type": "authorization_code\x00", "code": "c"},
    ):
        response = token_request(live, data)
        assert_clean(response, json_expected=True)
        assert response.status_code == 400


@pytest.mark.parametrize(
    "authorization",
    [
        "",
        "Basic",
        "Basic ",
        "Basic !!!!",
        "Basic /w==",  # not UTF-8
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Basic " + base64.b64encode(b":").decode(),
        "Basic " + base64.b64encode(b"demo-rp:").decode(),
        "Basic " + base64.b64encode(b"\x00:\x00").decode(),
        "Basic " + base64.b64encode("é:日本".encode()).decode(),
        "Basic " + "QUFB" * 3000,
        "Bearer abc",
        "Digest username=demo-rp",
    ],
    ids=lambda a: a[:20] or "empty",
)
def test_garbage_client_authentication(live, authorization):
    response = post(live, "/token", {"grant_type": "client_credentials"}, headers={"Authorization": authorization})
    assert_clean(response, json_expected=True)
    assert response.status_code in (400, 401)
    assert response.json()["error"] == "invalid_client"


def test_client_id_with_nul_in_the_body(live):
    response = post(live, "/token", {"grant_type": "client_credentials", "client_id": "a\x00b", "client_secret": "x"})
    assert_clean(response, json_expected=True)
    assert response.status_code in (400, 401)


# -- other protocol endpoints ---------------------------------------------------------


@pytest.mark.parametrize("path", ["/revoke", "/introspect"])
def test_revoke_and_introspect_refuse_malformed_requests(live, path):
    assert_oauth_error(post(live, path, {}, auth=DEMO_BASIC), 400, "invalid_request")
    response = post(live, path, '{"token": "x"}', headers={"Content-Type": "application/json"}, auth=DEMO_BASIC)
    assert_oauth_error(response, 400, "invalid_request")
    response = post(live, path, {"token": "x", "token_type_hint": '"é'}, auth=DEMO_BASIC)
    assert_clean(response, json_expected=True)
    for value in HOSTILE:
        assert_clean(post(live, path, {"token": value}, auth=DEMO_BASIC), json_expected=True)
    assert requests.get(live.url + path, timeout=TIMEOUT).status_code == 405


def test_userinfo_with_hostile_tokens(live):
    for value in ["", "é", "a.b.c", "e30.e30.e30", "a" * 20000]:
        response = post(live, "/userinfo", {"access_token": value})
        assert_clean(response, json_expected=True)
        assert response.status_code == 401
    # RFC 6750 §3.1: a malformed request may be a 400 invalid_request instead.
    response = post(live, "/userinfo", {"access_token": "a\x00b"})
    assert_clean(response, json_expected=True)
    assert response.status_code in (400, 401)
    status, answer = raw_request(
        live, b"GET /userinfo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \xff\xfe\r\nConnection: close\r\n\r\n"
    )
    assert status == 401 and b"Traceback" not in answer


# -- the authorization endpoint and pages ---------------------------------------------

AUTHORIZE_PARAMS = [
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "prompt",
    "max_age",
    "code_challenge",
    "code_challenge_method",
    "ui_locales",
    "login_hint",
    "request",
    "response_mode",
]


@pytest.mark.parametrize("param", AUTHORIZE_PARAMS)
def test_hostile_authorization_parameters(live, param):
    for value in HOSTILE:
        response = requests.get(authorize_url(live, **{param: value}), allow_redirects=False, timeout=TIMEOUT)
        assert_clean(response, json_expected=False)
        if response.is_redirect:
            target = response.headers["Location"]
            assert target.startswith((DEMO_REDIRECT + "?", "/login", live.url + "/login")), target
            assert "\r" not in target and "\n" not in target


def test_hostile_authorization_parameters_with_a_session(live):
    _, browser = signed_in_code(live)
    for param in AUTHORIZE_PARAMS:
        for value in HOSTILE:
            response = browser.get(authorize_url(live, **{param: value}))
            assert_clean(response, json_expected=False)


def test_repeated_authorization_parameters_get_a_page(live):
    url = authorize_url(live) + "&" + urlencode({"redirect_uri": "http://evil.example/"})
    response = requests.get(url, allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 400 and not response.is_redirect
    assert_clean(response, json_expected=False)


def test_huge_query_string(live):
    response = requests.get(authorize_url(live, state="s" * 100_000), allow_redirects=False, timeout=TIMEOUT)
    assert_clean(response)
    assert not response.is_redirect


def test_non_utf8_query_string(live):
    request = b"GET /authorize?response_type=code&client_id=%FF%FE&redirect_uri=\xff HTTP/1.1\r\n"
    status, answer = raw_request(live, request + b"Host: x\r\nConnection: close\r\n\r\n")
    assert 400 <= status < 500 and b"Traceback" not in answer


def test_login_post_with_non_utf8_and_nul(live):
    for body in (b"email=\xff&password=\xfe", b"email=a%00b%40c.d&password=x%00y", b"\xff\xfe\xfd"):
        response = post(live, "/login", body, headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert_clean(response, json_expected=False)


def test_login_with_a_nul_in_the_email(live):
    browser = live.browser()
    browser.get("/login")
    response = browser.submit({"email": "user@demo.example\x00", "password": "Demo-pass-2026"})
    assert_clean(response, json_expected=False)
    assert response.status_code in (400, 401)


def test_huge_login_post(live):
    response = post(live, "/login", {"email": "a@b.c", "password": "x" * 200_000})
    assert_clean(response, json_expected=False)
    assert response.status_code in (400, 413)


def test_logout_with_hostile_parameters(live):
    for param in ("id_token_hint", "post_logout_redirect_uri", "client_id", "state", "ui_locales"):
        for value in HOSTILE:
            response = requests.get(
                live.url + "/logout?" + urlencode({param: value}), allow_redirects=False, timeout=TIMEOUT
            )
            assert_clean(response, json_expected=False)
            assert not response.is_redirect


def test_unknown_path_is_a_page(live):
    response = requests.get(live.url + "/no/such/page", timeout=TIMEOUT)
    assert response.status_code == 404
    assert_clean(response, json_expected=False)


# -- a request that fails half way leaves nothing behind ------------------------------


def test_failed_token_response_leaves_the_code_unused(live, monkeypatch):
    """ID-token signing fails after the code was marked used and the grant
    stored: the transaction rolls back, so the code is still unused and a
    retry succeeds. The alternative (burning the code) would punish the
    client for the provider's fault; the code stays single-use either way."""
    verifier, challenge = pkce_pair()
    code, _ = signed_in_code(live, code_challenge=challenge, code_challenge_method="S256")
    tokens = live.app.extensions["idp.tokens"]

    def broken(**_: object) -> str:
        raise RuntimeError("signing key unavailable")

    monkeypatch.setattr(tokens, "id_token", broken)
    failed = redeem(live, code, verifier)
    assert failed.status_code == 500 and failed.headers["Content-Type"].startswith("application/json")
    assert failed.json()["error"] == "server_error" and failed.json()["error_id"]
    assert "signing key" not in failed.text and "Traceback" not in failed.text

    monkeypatch.undo()
    retried = redeem(live, code, verifier)
    assert retried.status_code == 200, retried.text
    assert redeem(live, code, verifier).status_code == 400  # and it is still single-use


def test_failed_refresh_leaves_the_refresh_token_usable(live, monkeypatch):
    from .helpers import code_flow, refresh

    _, tokens = code_flow(live)
    issuer = live.app.extensions["idp.tokens"]

    def broken(**_: object) -> str:
        raise RuntimeError("signing key unavailable")

    monkeypatch.setattr(issuer, "id_token", broken)
    assert refresh(live, tokens["refresh_token"]).status_code == 500
    monkeypatch.undo()
    # Not consumed, so not a reuse: the family lives on.
    assert refresh(live, tokens["refresh_token"]).status_code == 200


# -- the database cannot be reached ------------------------------------------------------


@pytest.fixture
def unreachable(tmp_path, key_template):  # type: ignore[no-untyped-def]
    import shutil

    shutil.copytree(key_template, tmp_path / "keys")
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nothing"
    app = create_app(make_settings(url, tmp_path, "http://idp.test"))
    yield app.test_client()
    app.extensions["idp.engine"].dispose()


def assert_unavailable(response, json_expected: bool) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 503, response.get_data(as_text=True)[:300]
    assert response.headers.get("Retry-After")
    body = response.get_data(as_text=True)
    assert "Traceback" not in body and "psycopg" not in body and "refused" not in body
    if json_expected:
        assert response.is_json and response.json["error"] == "temporarily_unavailable"
    else:
        assert response.mimetype == "text/html" and 'id="error-id"' in body


def test_unreachable_database_token_endpoint(unreachable):
    data = {"grant_type": "authorization_code", "code": "c", "redirect_uri": DEMO_REDIRECT}
    response = unreachable.post("/token", data=data, headers={"Authorization": _basic()})
    assert_unavailable(response, json_expected=True)


def test_unreachable_database_client_credentials(unreachable):
    response = unreachable.post(
        "/token", data={"grant_type": "client_credentials"}, headers={"Authorization": _basic()}
    )
    assert_unavailable(response, json_expected=True)


def test_unreachable_database_login_page(unreachable):
    page = unreachable.get("/login")
    fields = parse_forms(page.get_data(as_text=True))[0]["fields"]
    response = unreachable.post("/login", data={**fields, "email": "user@demo.example", "password": "x"})
    assert_unavailable(response, json_expected=False)
    assert '<html lang="ja"' in response.get_data(as_text=True)


def test_unreachable_database_authorize_page(unreachable):
    query = urlencode({"response_type": "code", "client_id": "demo-rp", "redirect_uri": DEMO_REDIRECT})
    assert_unavailable(unreachable.get("/authorize?" + query), json_expected=False)


def test_unreachable_database_introspection(unreachable):
    response = unreachable.post("/introspect", data={"token": "x"}, headers={"Authorization": _basic()})
    assert_unavailable(response, json_expected=True)


def _basic() -> str:
    return "Basic " + base64.b64encode(b"demo-rp:demo-rp-secret").decode()


# -- a bad setting at start-up ----------------------------------------------------------

BAD_SETTINGS = [
    ("IDP_ISSUER", "ftp://x", "http"),
    ("IDP_KEYS_JWKS_MAX_AGE", "abc", "whole number"),
    ("IDP_LINE_TRUSTED_PROXIES", "bogus", "CIDR"),
    ("IDP_DATABASE_URL", "mysql://x/y", "postgresql"),
    ("IDP_TOKENS_ACCESS_TOKEN_TTL", "0", "at least"),
    ("IDP_SECRET_KEY", "short", "32"),
    ("IDP_ISSUER", "http://[", "not a valid URL"),
    ("IDP_ISSUER", "http://idp.example:99999", "not a valid URL"),
    ("IDP_SMTP_URL", "http://mail.example", "smtp"),
]


def run_idp(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("IDP_") or k == "IDP_TEST_POSTGRES"}
    environ.update(
        {
            "IDP_DATABASE_URL": f"sqlite:///{tmp_path}/idp.sqlite3",
            "IDP_VAR_DIR": str(tmp_path / "var"),
            "IDP_KEYS_DIR": str(tmp_path / "keys"),
            **env,
        }
    )
    script = Path(sys.executable).parent / "idp"
    return subprocess.run([str(script), *args], env=environ, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("name,value,why", BAD_SETTINGS, ids=[f"{n}={v}" for n, v, _ in BAD_SETTINGS])
def test_bad_setting_stops_the_command_with_one_line(tmp_path, name, value, why):
    result = run_idp(tmp_path, "db", "upgrade", **{name: value})
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert name in lines[0] and why in lines[0]
    if name != "IDP_SECRET_KEY":  # a secret is never echoed
        assert value in lines[0]
    else:
        assert value not in lines[0].split(":", 1)[1].replace(name, "")
    assert "Traceback" not in result.stderr and result.stdout == ""


@pytest.mark.parametrize(
    "name,value",
    [
        ("IDP_DATABASE_URL", "mysql://idp:hunter2@db.example/idp"),
        ("IDP_REDIS_URL", "http://:hunter2@cache.example/"),
        ("IDP_SMTP_URL", "smtp://user:hunter2@[mail"),
    ],
    ids=["database", "redis", "smtp"],
)
def test_a_bad_url_setting_never_shows_its_password(tmp_path, name, value):
    result = run_idp(tmp_path, "db", "upgrade", **{name: value})
    assert result.returncode != 0 and name in result.stderr
    assert "hunter2" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_setting_of_the_wrong_type_in_the_config_file(tmp_path):
    config = tmp_path / "idp.toml"
    config.write_text("[keys]\njwks_max_age = true\n")
    result = run_idp(tmp_path, "db", "upgrade", IDP_CONFIG=str(config))
    assert result.returncode != 0
    assert "IDP_KEYS_JWKS_MAX_AGE" in result.stderr and "whole number" in result.stderr


def test_unreachable_database_stops_the_command_with_one_line(tmp_path):
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nothing"
    result = run_idp(tmp_path, "db", "upgrade", IDP_DATABASE_URL=url)
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "database" in result.stderr and "Traceback" not in result.stderr


def test_good_settings_upgrade_the_database(tmp_path):
    result = run_idp(tmp_path, "db", "upgrade")
    assert result.returncode == 0, result.stderr
