"""Signed tokens: RFC 9068 JWT access tokens and OIDC ID tokens, and their checks."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jws import extract_compact

from .. import clock
from ..config import Settings
from ..hashing import new_token
from ..keys import KeyStore, RotationPolicy

ACCESS_TOKEN_ALG = "ES256"  # 20x cheaper to sign than RS256; every RP library verifies it


def half_hash(value: str, alg: str) -> str:
    """``at_hash``: left half of the SHA-256 digest (OIDC Core §3.1.3.6), for RS256 and ES256."""
    half = hashlib.sha256(value.encode()).digest()[:16]
    return base64.urlsafe_b64encode(half).rstrip(b"=").decode()


class TokenIssuer:
    def __init__(self, settings: Settings, keys: KeyStore) -> None:
        self.settings = settings
        self.keys = keys
        self.rotation = RotationPolicy.from_settings(settings)

    def _sign(self, header: dict[str, Any], claims: dict[str, Any], alg: str) -> str:
        self.keys.rotate_if_due(self.rotation)  # keys.rotate_after_days; almost always a no-op
        key = self.keys.current().signing_key(alg)
        # The JWS layer directly, with compact JSON: jwt.encode's claim
        # handling costs as much again as the signature on the token endpoint.
        payload = json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode()
        return jws.serialize_compact({**header, "alg": alg, "kid": key.kid}, payload, key, algorithms=[alg])

    def access_token(
        self,
        *,
        client_id: str,
        subject: str,
        scope: str,
        extra: dict[str, Any] | None = None,
    ) -> str:
        """RFC 9068 §2.2: iss, exp, aud, sub, client_id, iat, jti, and scope."""
        now = clock.timestamp()
        claims = {
            "iss": self.settings.issuer,
            "sub": subject,
            "aud": self.settings.audience,
            "client_id": client_id,
            "iat": now,
            "exp": now + self.settings.access_token_ttl,
            "jti": new_token(16),
            "scope": scope,
            **(extra or {}),
        }
        return self._sign({"typ": "at+jwt"}, claims, ACCESS_TOKEN_ALG)

    def id_token(
        self,
        *,
        client_id: str,
        alg: str,
        claims: dict[str, Any],
        nonce: str | None = None,
        access_token: str | None = None,
    ) -> str:
        now = clock.timestamp()
        body = {
            "iss": self.settings.issuer,
            "aud": client_id,
            "iat": now,
            "exp": now + self.settings.id_token_ttl,
            **claims,
        }
        if nonce:
            body["nonce"] = nonce
        if access_token:
            body["at_hash"] = half_hash(access_token, alg)
        return self._sign({"typ": "JWT"}, body, alg)

    def verify_signature(self, token: str, typ: str | None = None) -> dict[str, Any] | None:
        """Claims of a token signed by a published key (next, active, retiring) and
        issued here; expiry is the caller's business. None for anything else."""
        try:
            header = extract_compact(token.encode()).protected
            key = self.keys.current().keys.get(header.get("kid", ""))
            if key is None or header.get("alg") != key.alg:
                return None
            if typ and header.get("typ", "").lower() not in (typ, f"application/{typ}"):
                return None
            claims = jwt.decode(token, key, algorithms=[key.alg]).claims
        except (JoseError, ValueError, TypeError, UnicodeError):
            return None
        return claims if claims.get("iss") == self.settings.issuer else None

    def verify(self, token: str) -> dict[str, Any] | None:
        """Claims of an unexpired RFC 9068 access token issued here, else None."""
        claims = self.verify_signature(token, typ="at+jwt")
        if claims is None:
            return None
        exp = claims.get("exp")
        if not isinstance(exp, int) or exp <= clock.timestamp():
            return None
        return claims
