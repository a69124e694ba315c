"""The authorization server: authlib's, with our grants, tokens and client auth."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import InvalidClientError, InvalidRequestError, OAuth2Request
from authlib.oauth2.rfc6749.hooks import hooked
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from authlib.oauth2.rfc9207 import IssuerParameter
from flask import Flask
from flask import request as http_request
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import extract_compact
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from .. import clock, db
from ..config import Settings
from ..hashing import digest, new_token
from ..models import RevokedJti
from ..operations import metrics
from . import client_keys, clients, store
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

# Client libraries make assertions valid for a minute or a few; an hour is
# generous, and bounds how long a used jti must be remembered.
MAX_ASSERTION_LIFETIME = 3600


class PrivateKeyJWT(JWTBearerClientAssertion):
    """private_key_jwt (OIDC Core §9, RFC 7523 §3) with single-use ``jti``."""

    CLIENT_AUTH_METHOD = "private_key_jwt"

    def __init__(self, settings: Settings) -> None:
        super().__init__(validate_jti=True)
        self.settings = settings

    def get_audiences(self) -> list[str]:
        return [self.settings.issuer + "/token", self.settings.issuer]

    def resolve_client_public_key(self, client: Any) -> KeySet:
        """The registered set, or the one at the client's jwks_uri, fetched
        again when the assertion names a key it lacks (client_keys)."""
        try:
            return client_keys.client_keys(client.model.jwks, client.model.jwks_uri, _assertion_kid())
        except client_keys.KeysUnavailable:
            raise InvalidClientError(description="the client's keys are not available") from None

    def validate_jti(self, claims: Any, jti: Any) -> bool:
        # Remembered until the assertion expires, as a revoked-token row, so a
        # replayed assertion fails on the primary key.
        if not isinstance(jti, str) or not jti:
            raise InvalidClientError(description="the assertion's jti must be a string")
        exp = int(claims["exp"])
        if exp > clock.timestamp() + MAX_ASSERTION_LIFETIME:
            # RFC 7523 §3 lets the server refuse an exp "unreasonably far in
            # the future"; its jti would have to be remembered that long.
            raise InvalidClientError(description="the assertion expires too far in the future")
        expires = datetime.fromtimestamp(exp, UTC)
        session = db.session()
        try:
            with session.begin_nested():
                session.add(RevokedJti(jti="assertion:" + digest(jti)[:48], expires_at=expires))
        except IntegrityError:
            return False
        return True


def _assertion_kid() -> str | None:
    """The kid in the header of this request's client assertion (already parsed
    once by authlib, which does not hand the header on)."""
    try:
        kid = extract_compact(http_request.form["client_assertion"].encode()).protected.get("kid")
    except (KeyError, JoseError, ValueError, UnicodeError):
        return None
    return kid if isinstance(kid, str) else None


class UnsupportedResponseType(OAuth2Error):
    """authlib's own error quotes the requested value in its description and
    fails (ValueError, so a 500) on characters RFC 6749 §4.1.2.1 does not
    allow there; this one says the same with a fixed text."""

    error = "unsupported_response_type"


FORM = "application/x-www-form-urlencoded"
# Endpoints whose parameters are form-encoded in a POST body (RFC 6749 §3.2,
# RFC 7009 §2.1, RFC 7662 §2.1); userinfo and logout take other shapes.
FORM_ENDPOINTS = ("revocation", "introspection")


def has_repeated_parameter() -> bool:
    """RFC 6749 §3.1 and §3.2: parameters MUST NOT be included more than once;
    a repeated one could be read differently by two layers."""
    return any(len(values) > 1 for _, values in http_request.values.lists())


def malformed_form_post() -> OAuth2Error | None:
    """What is wrong with the shape of a token-endpoint-style request, if anything."""
    if http_request.mimetype != FORM:
        return InvalidRequestError("the request body must be application/x-www-form-urlencoded")
    if has_repeated_parameter():
        return InvalidRequestError("a parameter is repeated")
    return None


class Server(AuthorizationServer):
    def __init__(self, app: Flask, settings: Settings, issuer: TokenIssuer) -> None:
        super().__init__()
        self.settings = settings
        self.issuer = issuer
        self.init_app(app, query_client=clients.find, save_token=self.store_token)
        self.register_token_generator("default", self.make_token)
        self.register_client_auth_method("client_secret_basic", clients.authenticate_secret_basic)
        self.register_client_auth_method("private_key_jwt", PrivateKeyJWT(settings))
        self.register_grant(AuthorizationCodeGrant, [S256Only(required=True), OpenIDCode()])
        self.register_grant(RefreshTokenGrant, [OpenIDToken()])
        self.register_grant(ClientCredentialsGrant)
        self.register_endpoint(RevocationEndpoint)
        self.register_endpoint(IntrospectionEndpoint)
        self.register_endpoint(EndSessionEndpoint)
        self.register_extension(_Issuer(settings.issuer))

    def create_oauth2_request(self, request: Any) -> OAuth2Request:
        """An authorization request resumed after sign-in comes as the request it
        was (``authorize.resume``); anything else is read from the HTTP request."""
        if isinstance(request, OAuth2Request):
            return request
        return super().create_oauth2_request(request)

    def get_authorization_grant(self, request: OAuth2Request) -> Any:
        """Only the code flow (CONTRACT: response_types_supported ["code"]).
        Anything else is refused here with a fixed description, so hostile
        values cannot break the error itself (see UnsupportedResponseType)."""
        response_type = request.payload.response_type
        if response_type != "code":
            error = (
                InvalidRequestError("response_type is required")
                if not response_type
                else UnsupportedResponseType("only response_type=code is supported")
            )
            error.redirect_uri = self._registered_redirect_uri(request)
            raise error
        return super().get_authorization_grant(request)

    def _registered_redirect_uri(self, request: OAuth2Request) -> str | None:
        """The request's redirect URI if its client registered it exactly; errors
        go there and nowhere else (RFC 6749 §4.1.2.1), never to a default."""
        client = clients.find(request.payload.client_id)
        uri = request.payload.redirect_uri
        return uri if client is not None and uri and client.check_redirect_uri(uri) else None

    @hooked  # as authlib's: RFC 9207's iss is added after it
    def create_authorization_response(self, request: Any = None, grant_user: Any = None, grant: Any = None) -> Response:
        """The response for the grant ``get_consent_grant`` returned earlier in
        the same request: authlib's own would build the request again and
        validate it all over (client, redirect URI, scope, PKCE, OIDC
        parameters)."""
        if grant is None or grant.redirect_uri is None:
            raise TypeError("pass the grant get_consent_grant validated")
        try:
            response = self.handle_response(*grant.create_authorization_response(grant.redirect_uri, grant_user))
        except OAuth2Error as error:
            error.state = grant.request.payload.state
            response = self.handle_error_response(grant.request, error)
        grant.execute_hook("after_authorization_response", response)
        return response

    def create_token_response(self, request: Any = None) -> Response:
        """RFC 6749 §3.2 and §5.2: a form-encoded POST with each parameter once;
        a missing grant_type is invalid_request, not unsupported_grant_type."""
        if error := malformed_form_post():
            return self.handle_error_response(None, error)
        if not http_request.form.get("grant_type"):
            return self.handle_error_response(None, InvalidRequestError("grant_type is required"))
        return super().create_token_response(request)

    def create_endpoint_response(self, name: str, request: Any = None) -> Response | None:
        if name in FORM_ENDPOINTS and (error := malformed_form_post()):
            return self.handle_error_response(None, error)
        return super().create_endpoint_response(name, request)

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
        metrics.count_grant(grant_type)
        return token

    def store_token(self, token: dict[str, Any], request: Any) -> None:
        proof = request.user
        if proof is None:
            return
        if request.authorization_code is not None:
            store.create_grant(proof, request.client.client_id, token.get("scope", ""), proof.grant_id)
        if "refresh_token" in token:
            ends_at = store.grant_ends_at(proof, self.settings.refresh_absolute_days)
            store.save_refresh_token(token["refresh_token"], proof.grant_id, self.settings.refresh_token_ttl, ends_at)


class _Issuer(IssuerParameter):
    """RFC 9207: ``iss`` in every authorization response."""

    def __init__(self, issuer: str) -> None:
        self.issuer = issuer

    def get_issuer(self) -> str:
        return self.issuer
