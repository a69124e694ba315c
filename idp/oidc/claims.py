"""Claims about a user, for ID tokens and userinfo (CONTRACT.md "Claims")."""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749 import scope_to_list

from ..auth.proof import Proof

SUPPORTED = [
    "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "amr", "at_hash", "sid",
    "email", "email_verified", "name", "tenant_id", "roles", "line_id",
]  # fmt: skip
SCOPES = ["openid", "profile", "email", "offline_access"]


def user_claims(proof: Proof, scope: str) -> dict[str, Any]:
    """Claims released for ``scope`` (OIDC Core §5.4); tenant and roles always, since
    the storage service authorizes by them."""
    user, scopes = proof.user, set(scope_to_list(scope) or [])
    claims: dict[str, Any] = {
        "sub": user.subject,
        "tenant_id": user.tenant_id,
        "roles": user.roles,
        "auth_time": int(proof.auth_time.timestamp()),
        "amr": list(proof.amr),
    }
    if "email" in scopes:
        claims["email"] = user.email
        claims["email_verified"] = user.email_verified
    if "profile" in scopes:
        claims["name"] = user.name
    if proof.line_id:
        claims["line_id"] = proof.line_id
    return claims
