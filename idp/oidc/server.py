"""The authorization server: authlib's, with our grants, tokens and client auth."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import InvalidClientError
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from authlib.oauth2.rfc9207 import IssuerParameter
from flask import Flask
from joserfc.jwk import KeySet
from sqlalchemy.exc import IntegrityError

from .. import db
from ..config import Settings
from ..hashing import digest, new_token
from ..models import RevokedJti
from . import clients, store
from .endpoints import EndSessionEndpoint, IntrospectionEndpoint, RevocationEndpoint
from .grants import (
    AuthorizationCodeGrant,
    ClientCredentialsGrant,
    OpenIDCode,
    OpenIDToken,
    RefreshTokenGrant,
    S256Only,
)
from .tokens import TokenIssuer


class PrivateKeyJWT(JWTBearerClientAssertion):
    """private_key_jwt (OIDC Core §9, RFC 7523 §3) with single-use ``jti``."""

    CLIENT_AUTH_METHOD = "private_key_jwt"

    def __init__(self, settings: Settings) -> None:
        super().__init__(validate_jti=True)
        self.settings = settings

    def get_audiences(self) -> list[str]:
        return [self.settings.issuer + "/token", self.settings.issuer]

    def resolve_client_public_key(self, client: Any) -> KeySet:
        if not client.model.jwks:
            raise InvalidClientError(description="the client has no registered keys")
        return KeySet.import_key_set(client.model.jwks)

    def validate_jti(self, claims: Any, jti: str) -> bool:
        # Remembered until the assertion expires, as a revoked-token row, so a
        # replayed assertion fails on the primary key.
        expires = datetime.fromtimestamp(int(claims["exp"]), UTC)
        session = db.session()
        try:
            with session.begin_nested():
                session.add(RevokedJti(jti="assertion:" + digest(jti)[:48], expires_at=expires))
        except IntegrityError:
            return False
        return True


class Server(AuthorizationServer):
    def __init__(self, app: Flask, settings: Settings, issuer: TokenIssuer) -> None:
        super().__init__()
        self.settings = settings
        self.issuer = issuer
        self.init_app(app, query_client=clients.find, save_token=self.store_token)
        self.register_token_generator("default", self.make_token)
        self.register_client_auth_method("private_key_jwt", PrivateKeyJWT(settings))
        self.register_grant(AuthorizationCodeGrant, [S256Only(required=True), OpenIDCode()])
        self.register_grant(RefreshTokenGrant, [OpenIDToken()])
        self.register_grant(ClientCredentialsGrant)
        self.register_endpoint(RevocationEndpoint)
        self.register_endpoint(IntrospectionEndpoint)
        self.register_endpoint(EndSessionEndpoint)
        self.register_extension(_Issuer(settings.issuer))

    def make_token(
        self,
        grant_type: str,
        client: Any,
        user: Any = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        scope = scope or ""
        if user is None:  # client credentials: the client acts for itself
            access = self.issuer.access_token(client_id=client.client_id, subject=client.client_id, scope=scope)
        else:
            access = self.issuer.access_token(
                client_id=client.client_id,
                subject=user.user.subject,
                scope=scope,
                extra={
                    "grant_id": user.grant_id,
                    "auth_time": int(user.auth_time.timestamp()),
                    "amr": user.amr,
                },
            )
        token = {"token_type": "Bearer", "access_token": access, "expires_in": self.settings.access_token_ttl}
        if scope:
            token["scope"] = scope
        if user is not None and include_refresh_token:
            token["refresh_token"] = new_token(32)
        return token

    def store_token(self, token: dict[str, Any], request: Any) -> None:
        proof = request.user
        if proof is None:
            return
        if request.authorization_code is not None:
            store.create_grant(proof, request.client.client_id, token.get("scope", ""), proof.grant_id)
            request.authorization_code.row.grant_id = proof.grant_id
        if "refresh_token" in token:
            store.save_refresh_token(token["refresh_token"], proof.grant_id, self.settings.refresh_token_ttl)


class _Issuer(IssuerParameter):
    """RFC 9207: ``iss`` in every authorization response."""

    def __init__(self, issuer: str) -> None:
        self.issuer = issuer

    def get_issuer(self) -> str:
        return self.issuer
