"""The OpenID Connect broker: Google, Microsoft, docomo d-account and NTT East
Business ID are each a configuration of it (IDP_UPSTREAM_<P>_ISSUER, _CLIENT_ID,
_CLIENT_SECRET).

The authorization code flow with PKCE (S256), state and nonce, through
authlib's client. The ID token is checked as OIDC Core §3.1.3.7 asks:
signature by a key of the upstream's JWKS (fetched again when a token names
an unknown ``kid``: the upstream rotated), ``iss`` (Microsoft's multi-tenant
``…/{tenantid}/v2.0`` filled in with the token's ``tid``), ``aud`` (and
``azp`` when there are several), ``exp``/``iat`` with a minute of skew, and
``nonce``. Where the upstream advertises RFC 9207, the callback's ``iss`` must
name it (the mix-up defence, together with one redirect URI per upstream).
"""

from __future__ import annotations

import threading
import time
from typing import Any

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from .. import clock
from ..config import Upstream
from .broker import TIMEOUT, BrokerError, Failure, Identity, Pending, answer_error

SCOPE = "openid email profile"
SKEW = 60  # seconds of clock difference allowed on exp and iat
METADATA_TTL = 3600
TENANT = "{tenantid}"
ALGORITHMS = ("RS256", "PS256", "ES256")

_lock = threading.Lock()
_metadata: dict[str, tuple[float, dict[str, Any]]] = {}
_jwks: dict[str, KeySet] = {}


def _get_json(url: str) -> dict[str, Any]:
    try:
        response = requests.get(url, timeout=TIMEOUT)
        response.raise_for_status()
        body = response.json()
    except (requests.RequestException, ValueError) as err:
        raise BrokerError(Failure.UNAVAILABLE, f"{url}: {type(err).__name__}") from None
    if not isinstance(body, dict):
        raise BrokerError(Failure.UNAVAILABLE, f"{url}: not a JSON object")
    return body


def metadata(issuer: str) -> dict[str, Any]:
    """The upstream's discovery document (OIDC Discovery §4), cached for an hour."""
    with _lock:
        cached = _metadata.get(issuer)
    if cached and cached[0] > time.monotonic():
        return cached[1]
    meta = _get_json(issuer + "/.well-known/openid-configuration")
    named = str(meta.get("issuer", ""))
    # §4.3: the document must be the issuer's own. A multi-tenant issuer (Microsoft)
    # is served at .../common/... and names the template.
    if named != issuer and named.replace(TENANT, issuer.rsplit("/", 2)[-2]) != issuer:
        raise BrokerError(Failure.UNAVAILABLE, f"metadata names issuer {named!r}")
    for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(meta.get(key), str):
            raise BrokerError(Failure.UNAVAILABLE, f"metadata without {key}")
    with _lock:
        _metadata[issuer] = (time.monotonic() + METADATA_TTL, meta)
    return meta


def _keys(jwks_uri: str, kid: str | None) -> KeySet:
    """The upstream's keys; fetched again when ``kid`` is not among those cached."""
    with _lock:
        keys = _jwks.get(jwks_uri)
    if keys is not None and (kid is None or any(k.kid == kid for k in keys.keys)):
        return keys
    try:
        keys = KeySet.import_key_set(_get_json(jwks_uri))  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError, KeyError):
        raise BrokerError(Failure.UNAVAILABLE, "unreadable JWKS") from None
    with _lock:
        _jwks[jwks_uri] = keys
    return keys


def verify_id_token(id_token: str, meta: dict[str, Any], client_id: str, nonce: str) -> dict[str, Any]:
    """The claims of ``id_token`` once every check of OIDC Core §3.1.3.7 passed."""
    try:
        kid = jws.extract_compact(id_token.encode()).protected.get("kid")
        keys = _keys(meta["jwks_uri"], kid)
        token = jwt.decode(id_token, keys, algorithms=list(ALGORITHMS))
        claims = token.claims
        issuer = str(meta["issuer"])
        if TENANT in issuer:
            tid = claims.get("tid")
            if not isinstance(tid, str) or not tid or "/" in tid:
                raise BrokerError(Failure.ID_TOKEN, "no tid for a multi-tenant issuer")
            issuer = issuer.replace(TENANT, tid)
        jwt.JWTClaimsRegistry(
            now=clock.timestamp(),
            leeway=SKEW,
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": client_id},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        ).validate(claims)
    except BrokerError:
        raise
    except (JoseError, ValueError, TypeError, KeyError) as err:
        raise BrokerError(Failure.ID_TOKEN, f"{type(err).__name__}: {err}"[:200]) from None
    audience = claims["aud"]
    if isinstance(audience, list) and len(audience) > 1 and claims.get("azp") != client_id:
        raise BrokerError(Failure.ID_TOKEN, "azp is not this client")
    return claims


class OidcBroker:
    def __init__(self, upstream: Upstream) -> None:
        self.upstream = upstream
        self.provider = upstream.provider

    def _client(self, pending: Pending) -> OAuth2Session:
        return OAuth2Session(
            self.upstream.client_id,
            self.upstream.client_secret,
            redirect_uri=pending.redirect_uri,
            scope=SCOPE,
            code_challenge_method="S256",
            default_timeout=TIMEOUT,
        )

    def start(self, pending: Pending, prompt: str | None, max_age: int | None) -> str:
        meta = metadata(self.upstream.issuer)
        extra: dict[str, str] = {}
        if prompt:
            extra["prompt"] = prompt
        if max_age is not None:
            extra["max_age"] = str(max_age)
        url, _ = self._client(pending).create_authorization_url(
            meta["authorization_endpoint"],
            state=pending.state,
            nonce=pending.nonce,
            code_verifier=pending.verifier,
            **extra,
        )
        return str(url)

    def finish(self, pending: Pending, answer: dict[str, str]) -> Identity:
        meta = metadata(self.upstream.issuer)
        iss = answer.get("iss")
        # RFC 9207 §2.4: required where advertised; where sent, it must be this upstream.
        if (meta.get("authorization_response_iss_parameter_supported") or iss is not None) and iss != meta["issuer"]:
            raise BrokerError(Failure.MIXUP, f"iss {iss!r}")
        answer_error(answer)
        try:
            token = self._client(pending).fetch_token(
                meta["token_endpoint"], code=answer["code"], code_verifier=pending.verifier
            )
        except requests.RequestException as err:
            raise BrokerError(Failure.UNAVAILABLE, type(err).__name__) from None
        except (OAuthError, ValueError, KeyError, TypeError) as err:
            raise BrokerError(Failure.TOKEN, f"{type(err).__name__}: {err}"[:200]) from None
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise BrokerError(Failure.TOKEN, "no id_token")
        claims = verify_id_token(id_token, meta, self.upstream.client_id, pending.nonce)
        amr = claims.get("amr")
        return Identity(
            provider=self.provider,
            subject=str(claims["sub"]),
            email=claims.get("email") if isinstance(claims.get("email"), str) else None,
            name=claims.get("name") if isinstance(claims.get("name"), str) else None,
            amr=[str(a) for a in amr] if isinstance(amr, list) else [],
        )
