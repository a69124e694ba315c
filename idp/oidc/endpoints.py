"""Token-introspecting endpoints: revocation (RFC 7009), introspection (RFC 7662),
userinfo (OIDC Core §5.3) and RP-initiated logout (OIDC RP-Initiated Logout 1.0)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

from authlib.oauth2.rfc6749 import InvalidRequestError
from authlib.oauth2.rfc6750 import InvalidTokenError
from authlib.oauth2.rfc7009 import RevocationEndpoint as _Revocation
from authlib.oauth2.rfc7662 import IntrospectionEndpoint as _Introspection
from authlib.oidc.rpinitiated import EndSessionEndpoint as _EndSession
from authlib.oidc.rpinitiated import EndSessionRequest
from flask import current_app
from sqlalchemy import select

from .. import clock, db
from ..auth.proof import Proof
from ..hashing import digest
from ..models import RefreshToken, RevokedJti
from . import clients, store
from .claims import user_claims


@dataclass
class TokenInfo:
    """A token this provider issued and still honours."""

    kind: str  # "access_token" or "refresh_token"
    client_id: str
    scope: str
    exp: int
    iat: int
    subject: str
    proof: Proof | None = None
    jti: str | None = None
    grant_id: str | None = None
    raw: str = ""

    def check_client(self, client: Any) -> bool:
        return client.client_id == self.client_id

    # authlib's introspection asks these (RFC 7662 §2.2 "active"); the lookups
    # below return only live tokens, so they hold unless the clock moved on.
    def is_expired(self) -> bool:
        return self.exp <= clock.timestamp()

    def is_revoked(self) -> bool:
        return False


def _tokens():  # type: ignore[no-untyped-def]
    return current_app.extensions["idp.tokens"]


def access_token_info(token: str) -> TokenInfo | None:
    """Claims of a live access token: signature, expiry, revocation, grant and user."""
    claims = _tokens().verify(token)
    if claims is None or db.session().get(RevokedJti, claims.get("jti", "")) is not None:
        return None
    proof = None
    if grant_id := claims.get("grant_id"):
        live = store.live_grant(grant_id)
        if live is None:
            return None
        proof = store.proof_of(*live)
    elif not clients.still_registered(claims["client_id"]):
        return None  # a deleted client's own (client credentials) token
    return TokenInfo(
        kind="access_token",
        client_id=claims["client_id"],
        scope=claims.get("scope", ""),
        exp=claims["exp"],
        iat=claims["iat"],
        subject=claims["sub"],
        proof=proof,
        jti=claims.get("jti"),
        grant_id=grant_id,
        raw=token,
    )


def refresh_token_info(token: str) -> TokenInfo | None:
    row = db.session().scalar(select(RefreshToken).where(RefreshToken.token_hash == digest(token)))
    if row is None or row.used_at is not None or row.expires_at <= clock.now():
        return None
    live = store.live_grant(row.grant_id)
    if live is None:
        return None
    grant, user = live
    return TokenInfo(
        kind="refresh_token",
        client_id=grant.client_id,
        scope=grant.scope,
        exp=int(row.expires_at.timestamp()),
        iat=int(row.created_at.timestamp()),
        subject=user.subject,
        proof=store.proof_of(grant, user),
        grant_id=grant.id,
        raw=token,
    )


def find_token(token: str, hint: str | None) -> TokenInfo | None:
    if len(token) > 4096:
        return None
    lookups = [access_token_info, refresh_token_info]
    if hint == "refresh_token":
        lookups.reverse()
    for lookup in lookups:
        if info := lookup(token):
            return info
    return None


class RevocationEndpoint(_Revocation):
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]

    def query_token(self, token_string: str, token_type_hint: str | None) -> TokenInfo | None:
        return find_token(token_string, token_type_hint)

    def authenticate_token(self, request: Any, client: Any) -> TokenInfo | None:
        # RFC 7009 §2.2: a token of another client is not revoked, and the
        # answer is the same 200 as for an unknown token.
        self.check_params(request, client)
        token = self.query_token(request.form["token"], request.form.get("token_type_hint"))
        return token if token and token.check_client(client) else None

    def revoke_token(self, token: TokenInfo, request: Any) -> None:
        if token.grant_id:
            store.revoke_grant(token.grant_id, "revoked")
        elif token.jti:
            expires = datetime.fromtimestamp(token.exp, UTC)
            db.session().merge(RevokedJti(jti=token.jti, expires_at=expires))


class IntrospectionEndpoint(_Introspection):
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt"]

    def query_token(self, token_string: str, token_type_hint: str | None) -> TokenInfo | None:
        return find_token(token_string, token_type_hint)

    def check_permission(self, token: TokenInfo, client: Any, request: Any) -> bool:
        # A client learns only about its own tokens.
        return token.check_client(client)

    def introspect_token(self, token: TokenInfo) -> dict[str, Any]:
        body: dict[str, Any] = {
            "active": True,
            "client_id": token.client_id,
            "scope": token.scope,
            "token_type": "Bearer" if token.kind == "access_token" else "refresh_token",
            "exp": token.exp,
            "iat": token.iat,
            "sub": token.subject,
            "iss": current_app.extensions["idp.settings"].issuer,
        }
        if token.kind == "access_token":
            body["aud"] = current_app.extensions["idp.settings"].audience
        if token.proof is not None:
            body["auth_time"] = int(token.proof.auth_time.timestamp())
        return body


def userinfo_claims(bearer: str | None) -> dict[str, Any]:
    """OIDC Core §5.3: the user's claims for a live access token with ``openid``."""
    info = access_token_info(bearer) if bearer else None
    if info is None or info.proof is None:
        raise InvalidTokenError()
    if "openid" not in info.scope.split():
        raise InvalidTokenError(description="the access token was not issued for openid")
    return user_claims(info.proof, info.scope)


@dataclass
class LogoutRequest(EndSessionRequest):
    """A validated logout request, and whom this browser is signed in as."""

    signed_in_subject: str | None = None

    @property
    def needs_confirmation(self) -> bool:
        """RP-Initiated Logout §6: without a valid hint the person confirms; so
        too when the hint names someone other than the person signed in here
        (anyone can hand a browser their own ID token to sign it out)."""
        if self.id_token_claims is None:
            return True
        return self.signed_in_subject is not None and self.id_token_claims.get("sub") != self.signed_in_subject


class EndSessionEndpoint(_EndSession):
    """RP-initiated logout: post_logout_redirect_uri must be registered exactly."""

    def validate_request(self, request: Any) -> LogoutRequest:
        from ..auth import sessions

        validated = super().validate_request(request)
        proof = sessions.current()
        return LogoutRequest(
            **{f.name: getattr(validated, f.name) for f in fields(validated)},
            signed_in_subject=proof.user.subject if proof else None,
        )

    def get_server_jwks(self) -> dict[str, Any]:
        return current_app.extensions["idp.keys"].current().jwks

    def _validate_id_token_hint(self, id_token_hint: str) -> dict[str, Any]:
        # Verified with the published keys; an expired hint is still a hint
        # (RP-Initiated Logout §2), so expiry is not checked here. Only an ID
        # token (typ JWT) is a hint: an access token (at+jwt) is not.
        claims = _tokens().verify_signature(id_token_hint, typ="jwt")
        if claims is None:
            raise InvalidRequestError("'id_token_hint' was not issued by this provider")
        return claims

    def _is_valid_post_logout_redirect_uri(self, client: Any, uri: str) -> bool:
        return client.check_post_logout_redirect_uri(uri)

    def end_session(self, end_session_request: Any) -> None:
        from ..auth import sessions

        sessions.end_current()
