"""Which redirect URIs a client may register (RFC 6749 §3.1.2, RFC 8252 §7):
https; http to a loopback address only; a native app's reverse-domain
private-use scheme; no fragment, no user name or password, nothing else.
The same for post-logout redirect URIs, however the client is registered."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from idp import db
from idp.models import Client

from ..console import idp
from .helpers import register_client

REFUSED = [
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "http://rp.example/cb",
    "http://localhost.evil.example/cb",
    "https://rp.example/cb#frag",
    "https://user:pw@rp.example/cb",
    "myapp:/cb",
    "/callback",
]


def clients_named(live, name: str) -> int:  # type: ignore[no-untyped-def]
    with live.app.app_context():
        return db.session().scalar(select(func.count()).select_from(Client).where(Client.name == name))


@pytest.mark.parametrize("uri", ["javascript:alert(1)", "http://rp.example/cb"])
def test_the_command_refuses_a_redirect_uri_in_one_line(live, uri):
    result = idp(live.settings, "client", "create", "--name", "Bad", "--redirect-uri", uri, "--public")
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1 and uri in result.stderr
    assert clients_named(live, "Bad") == 0


def test_the_command_refuses_a_post_logout_redirect_uri(live):
    args = ("--redirect-uri", "https://rp.example/cb", "--post-logout-redirect-uri", "javascript:alert(1)")
    result = idp(live.settings, "client", "create", "--name", "Bad", *args)
    assert result.returncode != 0 and "javascript:alert(1)" in result.stderr
    assert clients_named(live, "Bad") == 0


def test_the_command_registers_what_the_rules_allow(live):
    uris = ["https://rp.example/cb", "http://127.0.0.1:8080/cb", "http://localhost/cb", "http://[::1]:9000/cb"]
    args = [arg for uri in uris for arg in ("--redirect-uri", uri)]
    result = idp(live.settings, "client", "create", "--name", "Good", *args, "--post-logout-redirect-uri", uris[0])
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("client_id: ") and "client_secret: " in result.stdout
    native_args = ("--name", "Native", "--public", "--redirect-uri", "com.example.app:/cb")
    native = idp(live.settings, "client", "create", *native_args)
    assert native.returncode == 0, native.stderr
    assert clients_named(live, "Good") == clients_named(live, "Native") == 1


def test_a_private_use_scheme_is_for_native_public_clients_only(live):
    result = idp(live.settings, "client", "create", "--name", "Web", "--redirect-uri", "com.example.app:/cb")
    assert result.returncode != 0 and "public" in result.stderr


@pytest.mark.parametrize("field", ["redirect_uris", "post_logout_redirect_uris"])
def test_every_way_of_registering_applies_the_rules(live, field):
    for uri in REFUSED:
        fields = {"redirect_uris": ["https://rp.example/cb"], field: [uri]}
        with pytest.raises(ValueError, match="URI"):
            register_client(live, name="Bad", public=True, **fields)
    assert clients_named(live, "Bad") == 0
