"""authlib grants with the behaviour this provider needs filled into their hooks.

What authlib leaves open or gets wrong by default, and where it is closed here:
- a missing ``redirect_uri`` falls back to a registered one: refused
  (``validate_authorization_redirect_uri``), OIDC Core §3.1.2.1 requires it;
- code redemption is look-up, save, delete: one conditional UPDATE instead
  (``store.redeem_code``), and a replay revokes the grant;
- refresh tokens are not rotated: rotated on every use, reuse revokes the grant;
- PKCE ``plain`` is accepted and public clients may skip PKCE at the
  authorization endpoint: only S256, and required for public clients.
"""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749 import InvalidRequestError, InvalidScopeError, OAuth2Request, grants, scope_to_list
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import OpenIDCode as _OpenIDCode
from authlib.oidc.core import OpenIDToken as _OpenIDToken
from flask import current_app
from sqlalchemy import Row

from ..auth.proof import Proof
from ..hashing import new_token
from ..tenants import admission
from . import store
from .claims import user_claims

TOKEN_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]


def _settings():  # type: ignore[no-untyped-def]
    return current_app.extensions["idp.settings"]


class S256Only(CodeChallenge):
    """PKCE (RFC 7636) with S256 only, required of public clients (RFC 9700 §2.1.1)."""

    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if data.get("code_challenge") and data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256")
        super().validate_code_challenge(grant, redirect_uri)
        if grant.request.client.public and not data.get("code_challenge"):
            raise InvalidRequestError("PKCE with S256 is required for public clients")


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_AUTH_METHODS

    @staticmethod
    def validate_authorization_redirect_uri(request: OAuth2Request, client: Any) -> str:
        uri = request.payload.redirect_uri
        if not uri:
            raise InvalidRequestError("Missing 'redirect_uri' in request.")
        if not client.check_redirect_uri(uri):
            raise InvalidRequestError("'redirect_uri' is not registered for this client.")
        return uri

    def generate_authorization_code(self) -> str:
        # authlib draws its 48 characters one SystemRandom call at a time.
        return new_token(32)

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        data = request.payload.data
        store.save_code(
            code,
            client_id=request.client.client_id,
            redirect_uri=request.payload.redirect_uri,
            scope=request.scope,
            nonce=data.get("nonce"),
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
            proof=request.user,
            ttl=_settings().code_ttl,
        )

    def query_authorization_code(self, code: str, client: Any) -> Any:
        row = store.redeem_code(code, client.client_id)
        return _StoredCode(row) if row else None

    def delete_authorization_code(self, authorization_code: Any) -> None:
        """Nothing to do: ``redeem_code`` already marked it used."""

    def authenticate_user(self, authorization_code: Any) -> Proof | None:
        row = authorization_code.row
        user = store.active_user(row.user_id)
        if user is None or not admission.admits(user, row.line_id):
            return None  # the tenant's standing or line policy no longer admits this sign-in
        return Proof(
            user=user,
            auth_time=row.auth_time,
            amr=list(row.amr),
            line_id=row.line_id,
            session_id=row.browser_session_id,
            grant_id=row.grant_id,  # named when the code was redeemed
        )


class _StoredCode:
    """The redeemed row as authlib's AuthorizationCodeMixin."""

    def __init__(self, row: Row[Any]) -> None:
        self.row = row
        self.code_challenge = row.code_challenge
        self.code_challenge_method = row.code_challenge_method

    def get_redirect_uri(self) -> str:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.row.scope

    def get_nonce(self) -> str | None:
        return self.row.nonce


class RefreshTokenGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> Any:
        found = store.find_refresh_token(refresh_token, self.request.client.client_id)
        if found is None:
            return None
        row, grant = found
        live = None
        if row.used_at is None:
            # Checked before the token is spent (authlib checks after): a client
            # refused for asking too much, or by the user's or tenant's state,
            # keeps its token, and its next use is not taken for a reuse that
            # revokes the family.
            self._check_requested_scope(grant.scope)
            live = store.live_grant(grant.id)
            if live is None:
                return None
        if not store.spend_refresh_token(row, grant) or live is None:
            return None
        return _RefreshCredential(store.proof_of(*live), grant.scope)

    def _check_requested_scope(self, granted: str) -> None:
        """RFC 6749 §6: the scope may narrow, never widen."""
        requested = set(scope_to_list(self.request.payload.scope) or [])
        if not requested <= set(scope_to_list(granted) or []):
            raise InvalidScopeError()

    def authenticate_user(self, credential: Any) -> Proof:
        return credential.proof

    def revoke_old_credential(self, credential: Any) -> None:
        """Nothing to do: ``use_refresh_token`` already marked it used."""


class _RefreshCredential:
    def __init__(self, proof: Proof, scope: str) -> None:
        self.proof = proof
        self.scope = scope

    def check_client(self, client: Any) -> bool:
        return True  # use_refresh_token matched the client already

    def get_scope(self) -> str:
        return self.scope


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt"]


class OpenIDToken(_OpenIDToken):
    """Adds an ID token to token responses whose scope includes ``openid``."""

    def encode_id_token(self, token: dict[str, Any], request: OAuth2Request) -> str:
        proof: Proof = request.user
        code = request.authorization_code
        issuer = current_app.extensions["idp.tokens"]
        return issuer.id_token(
            client_id=request.client.client_id,
            alg=request.client.id_token_signed_response_alg,
            claims=user_claims(proof, token.get("scope", "")),
            nonce=code.get_nonce() if code else None,
            access_token=token.get("access_token"),
        )


class OpenIDCode(OpenIDToken, _OpenIDCode):
    def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
        return False  # codes are single-use; the RP checks its own nonce
