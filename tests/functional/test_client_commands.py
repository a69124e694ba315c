"""`idp client create`, `list` and `show` through the installed console script,
and every bad input refused with one line on stderr and a non-zero exit."""

from __future__ import annotations

import json
import re

import pytest

from ..client_steps import create, jwks_file, ok, public_jwk, refused, shown, signing_key, web_client
from ..rp import DEMO_REDIRECT

HTTPS_CB = "https://shop.example/cb"


def test_a_confidential_client_gets_its_secret_once(live):
    client_id, secret = create(live, "--redirect-uri", HTTPS_CB, "--post-logout-redirect-uri", "https://shop.example/")
    assert secret and len(secret) >= 43  # 256 bits, URL-safe base64
    assert re.fullmatch(r"[0-9a-f]{32}", client_id)  # never read as an option: no leading "-"
    settings = shown(live, client_id)
    assert settings == {
        "client_id": client_id,
        "name": "Shop",
        "auth method": "client_secret_basic",
        "public": "no",
        "grants": "authorization_code refresh_token",
        "scope": "openid profile email offline_access",
        "redirect URIs": HTTPS_CB,
        "post-logout redirect URIs": "https://shop.example/",
        "jwks_uri": "-",
        "jwks": "-",
        "ID token alg": "RS256",
        "client secret": "set (shown only when created or rotated)",
        "previous secret accepted until": "-",
    }
    assert secret not in ok(live, "client", "show", client_id) + ok(live, "client", "list")


def test_list_has_one_line_per_client(live):
    public_id, _ = create(live, "--public", "--redirect-uri", "com.example.app:/cb", name="Phone app")
    machine_id, _ = create(live, "--grant", "client_credentials", "--auth-method", "client_secret_post", name="Batch")
    lines = ok(live, "client", "list").splitlines()
    assert f"{public_id}\tPhone app\tnone\tauthorization_code,refresh_token" in lines
    assert f"{machine_id}\tBatch\tclient_secret_post\tclient_credentials" in lines
    assert "demo-rp\tDemo relying party\tclient_secret_basic\tauthorization_code,refresh_token,client_credentials" in (
        lines
    )
    assert len(lines) == 3


def test_a_public_client_has_no_secret(live):
    for args in (("--public",), ("--auth-method", "none")):
        client_id, secret = create(live, "--redirect-uri", DEMO_REDIRECT, *args)
        assert secret is None
        settings = shown(live, client_id)
        assert (settings["auth method"], settings["public"], settings["client secret"]) == ("none", "yes", "none")


def test_scope_and_keys_are_shown(live, tmp_path):
    key = signing_key("shop-key-1")
    path = jwks_file(tmp_path, public_jwk(key))
    client_id, secret = web_client(live, "--auth-method", "private_key_jwt", "--jwks", path, "--scope", "openid email")
    assert secret is None
    settings = shown(live, client_id)
    assert settings["scope"] == "openid email"
    assert settings["jwks"] == "shop-key-1 (EC)"
    assert settings["client secret"] == "none"
    by_uri = ("--auth-method", "private_key_jwt", "--jwks-uri", "https://shop.example/jwks")
    uri_id, _ = create(live, *by_uri, "--grant", "client_credentials")
    assert shown(live, uri_id)["jwks_uri"] == "https://shop.example/jwks"


def private_jwks(folder):  # type: ignore[no-untyped-def]
    return jwks_file(folder, signing_key("leaked").as_dict(private=True))


JWT = ["--grant", "client_credentials", "--auth-method", "private_key_jwt"]
BAD_CREATE = [
    (["--redirect-uri", "http://shop.example/cb"], "http only for"),
    (["--redirect-uri", "https://shop.example/cb#top"], "must not have a fragment"),
    (["--redirect-uri", "not a uri"], "without spaces"),
    (["--redirect-uri", HTTPS_CB, "--post-logout-redirect-uri", "https://shop.example/bye#x"], "post-logout"),
    ([], "redirect URI is required"),
    (["--redirect-uri", HTTPS_CB, "--auth-method", "magic"], "--auth-method"),
    (["--redirect-uri", HTTPS_CB, "--grant", "password"], "--grant"),
    (["--redirect-uri", HTTPS_CB, "--public", "--auth-method", "client_secret_post"], "its auth method is none"),
    (["--public", "--grant", "client_credentials"], "public client cannot use the client_credentials"),
    (JWT, "needs its public keys"),
    (["--grant", "client_credentials", "--jwks-uri", "https://shop.example/jwks"], "private_key_jwt auth method only"),
    ([*JWT, "--jwks-uri", "http://shop.example/k"], "http only for"),
    ([*JWT, "--jwks-uri", "ftp://shop.example/k"], "must be https"),
    (["--redirect-uri", HTTPS_CB, "--scope", 'openid "all"'], "scope"),
    (["--redirect-uri", HTTPS_CB, "--scope", ""], "scope"),
]


def test_create_refuses_bad_input_in_one_line(live):
    for args, message in BAD_CREATE:
        assert message in refused(live, "client", "create", "--name", "Bad", *args), args
    assert "\tBad\t" not in ok(live, "client", "list")


def test_a_private_key_in_the_jwks_file_is_refused(live, tmp_path):
    args = (*JWT, "--jwks", private_jwks(tmp_path))
    assert "holds a private key" in refused(live, "client", "create", "--name", "Bad", *args)
    symmetric = jwks_file(tmp_path, {"kty": "oct", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQ"})
    assert "private key" in refused(live, "client", "create", "--name", "Bad", *args[:-1], symmetric)
    assert "\tBad\t" not in ok(live, "client", "list")


def test_an_unreadable_jwks_file_is_refused(live, tmp_path):
    args = ("--name", "Bad", *JWT, "--jwks")
    (tmp_path / "junk.json").write_text("{not json")
    assert "cannot read a JSON file" in refused(live, "client", "create", *args, str(tmp_path / "junk.json"))
    assert "cannot read" in refused(live, "client", "create", *args, str(tmp_path / "missing.json"))
    (tmp_path / "empty.json").write_text(json.dumps({"keys": []}))
    assert "JWK set" in refused(live, "client", "create", *args, str(tmp_path / "empty.json"))


def test_a_missing_name_is_one_line(live):
    assert "--name" in refused(live, "client", "create", "--redirect-uri", HTTPS_CB)


@pytest.mark.parametrize("command", ["show", "rotate-secret", "delete"])
def test_an_unknown_client_id_is_one_line(live, command):
    assert "no client with id 'nobody'" in refused(live, "client", command, "nobody")
