"""Steps for registered clients: the `idp client` commands run as an operator
runs them, a relying party for each token endpoint auth method, and a
client's own JWKS published on a loopback port."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from authlib.integrations.base_client import OAuthError
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from joserfc.jwk import ECKey

from .conftest import Live
from .console import idp
from .rp import DEMO_REDIRECT, RelyingParty
from .services import free_port


def ok(live: Live, *args: str) -> str:
    done = idp(live.settings, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def refused(live: Live, *args: str) -> str:
    """The command failed with exactly one line on stderr and nothing on stdout."""
    done = idp(live.settings, *args)
    assert done.returncode != 0, done.stdout
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    return done.stderr


def printed(output: str) -> dict[str, str]:
    """``label: value`` lines as a dict."""
    return dict(line.split(": ", 1) for line in output.splitlines() if ": " in line)


def create(live: Live, *args: str, name: str = "Shop") -> tuple[str, str | None]:
    """`idp client create`; the client_id and the secret it printed, if any."""
    out = printed(ok(live, "client", "create", "--name", name, *args))
    return out["client_id"], out.get("client_secret")


def web_client(live: Live, *args: str, name: str = "Shop") -> tuple[str, str | None]:
    """A client with the demo redirect URI and all three grants."""
    grants = ("--grant", "authorization_code", "--grant", "refresh_token", "--grant", "client_credentials")
    return create(live, "--redirect-uri", DEMO_REDIRECT, *grants, *args, name=name)


def shown(live: Live, client_id: str) -> dict[str, str]:
    return printed(ok(live, "client", "show", client_id))


def signing_key(kid: str) -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": kid, "alg": "ES256", "use": "sig"})


def public_jwk(key: ECKey) -> dict[str, Any]:
    return key.as_dict(private=False)


def jwks_file(folder: Path, *keys: dict[str, Any]) -> str:
    path = folder / "client-jwks.json"
    path.write_text(json.dumps({"keys": list(keys)}))
    return str(path)


def relying_party(live: Live, client_id: str, secret: str | None, method: str) -> RelyingParty:
    return live.rp(client_id=client_id, client_secret=secret, auth_method=method)


def jwt_relying_party(live: Live, client_id: str, key: ECKey) -> RelyingParty:
    """A relying party that authenticates with assertions signed by ``key`` (RFC 7523)."""
    rp = live.rp(client_id=client_id, client_secret=key, auth_method="private_key_jwt")
    endpoint = rp.config["token_endpoint"]
    rp.client.register_client_auth_method(PrivateKeyJWT(endpoint, headers={"kid": key.kid}, alg="ES256"))
    return rp


def client_credentials(rp: RelyingParty) -> dict[str, Any]:
    """A token for the client itself, authenticated the relying party's way."""
    return dict(rp.client.fetch_token(rp.config["token_endpoint"], grant_type="client_credentials"))


def refusal(call: Callable[[], object]) -> str:
    """The OAuth error code of a request the provider refused."""
    with pytest.raises(OAuthError) as refused_with:
        call()
    return str(refused_with.value.error)


class JwksServer:
    """A client publishing its JWK set; counts how often the provider fetched it."""

    def __init__(self, *keys: dict[str, Any]) -> None:
        self.keys = list(keys)
        self.fetches = 0
        served = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server API)
                served.fetches += 1
                body = json.dumps({"keys": served.keys}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/jwk-set+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/jwks.json"

    def __enter__(self) -> JwksServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
