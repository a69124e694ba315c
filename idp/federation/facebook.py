"""The Facebook broker: the OAuth 2.0 login dialog, the token endpoint (client
id and secret as parameters), then Graph ``/me`` with ``appsecret_proof``
(HMAC-SHA256 of the access token under the app secret), so that a token
stolen elsewhere is useless without the secret. Facebook has no ID token; the
subject is the app-scoped user id."""

from __future__ import annotations

import hashlib
import hmac

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session

from ..config import Upstream
from .broker import TIMEOUT, BrokerError, Failure, Identity, Pending, answer_error

SCOPE = "email public_profile"


class FacebookBroker:
    def __init__(self, upstream: Upstream) -> None:
        self.upstream = upstream
        self.provider = upstream.provider

    def _client(self, pending: Pending) -> OAuth2Session:
        return OAuth2Session(
            self.upstream.client_id,
            self.upstream.client_secret,
            redirect_uri=pending.redirect_uri,
            scope=SCOPE,
            token_endpoint_auth_method="client_secret_post",
            default_timeout=TIMEOUT,
        )

    def start(self, pending: Pending, prompt: str | None, max_age: int | None) -> str:
        extra = {"auth_type": "reauthenticate"} if prompt == "login" or max_age is not None else {}
        url, _ = self._client(pending).create_authorization_url(
            self.upstream.authorize_url, state=pending.state, **extra
        )
        return str(url)

    def finish(self, pending: Pending, answer: dict[str, str]) -> Identity:
        answer_error(answer)
        try:
            token = self._client(pending).fetch_token(self.upstream.token_url, code=answer["code"])
            access_token = str(token["access_token"])
        except requests.RequestException as err:
            raise BrokerError(Failure.UNAVAILABLE, type(err).__name__) from None
        except (OAuthError, ValueError, KeyError, TypeError) as err:
            raise BrokerError(Failure.TOKEN, f"{type(err).__name__}: {err}"[:200]) from None
        proof = hmac.new(self.upstream.client_secret.encode(), access_token.encode(), hashlib.sha256).hexdigest()
        try:
            response = requests.get(
                f"{self.upstream.graph_url}/me",
                params={"fields": "id,name,email", "appsecret_proof": proof},
                headers={"Authorization": f"Bearer {access_token}"},
                timeout=TIMEOUT,
            )
            me = response.json()
        except (requests.RequestException, ValueError) as err:
            raise BrokerError(Failure.UNAVAILABLE, type(err).__name__) from None
        if response.status_code != 200 or not isinstance(me, dict) or not isinstance(me.get("id"), str):
            raise BrokerError(Failure.TOKEN, f"graph /me answered {response.status_code}")
        return Identity(
            provider=self.provider,
            subject=me["id"],
            email=me.get("email") if isinstance(me.get("email"), str) else None,
            name=me.get("name") if isinstance(me.get("name"), str) else None,
        )
