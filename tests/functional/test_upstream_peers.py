"""The loopback upstreams behave as the real ones do for a relying party.

A real OpenID client (authlib with PKCE and nonce, joserfc against the JWKS)
signs in through each upstream's login form with a scripted browser, as the
upstream-account broker will; Facebook is driven through its dialog, token
endpoint and Graph /me.
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest
import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import BadSignatureError, InvalidClaimError
from joserfc.jwk import KeySet

from tests.rp import Browser, callback_params, text_of
from tests.upstream import PROVIDERS, Account, Client, FacebookUpstream, OidcUpstream, OidcUpstreams, appsecret_proof

# The provider under test would be the relying party; only its callback URLs matter here.
RP_ISSUER = "https://idp.test"


def callback_for(provider: str) -> str:
    return f"{RP_ISSUER}/login/{provider}/callback"


class UpstreamRp:
    """A relying party of one upstream: discovery, PKCE, nonce, ID token checks."""

    def __init__(self, upstream: OidcUpstream, client: Client) -> None:
        self.upstream = upstream
        self.client_id = client.client_id
        self.config = requests.get(upstream.discovery_url, timeout=10).json()
        self.jwks = KeySet.import_key_set(requests.get(self.config["jwks_uri"], timeout=10).json())
        self.session = OAuth2Session(
            client.client_id,
            client.client_secret,
            redirect_uri=client.redirect_uri,
            scope="openid email profile",
            code_challenge_method="S256",
        )
        self.nonce = self.verifier = self.state = ""

    def authorization_url(self, **extra: str) -> str:
        self.nonce, self.verifier = secrets.token_urlsafe(16), secrets.token_urlsafe(48)
        url, self.state = self.session.create_authorization_url(
            self.config["authorization_endpoint"], nonce=self.nonce, code_verifier=self.verifier, **extra
        )
        return url

    def redeem(self, callback: dict[str, str], verifier: str | None = None) -> dict[str, Any]:
        assert callback["state"] == self.state
        token = self.session.fetch_token(
            self.config["token_endpoint"], code=callback["code"], code_verifier=verifier or self.verifier
        )
        return dict(token)

    def verify(self, id_token: str, issuer: str) -> dict[str, Any]:
        """OIDC Core §3.1.3.7: signature by a JWKS key, iss, aud, exp, iat, nonce."""
        token = jwt.decode(id_token, self.jwks, algorithms=["RS256"])
        assert token.header["alg"] == "RS256"
        registry = jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": self.client_id},
            nonce={"essential": True, "value": self.nonce},
            exp={"essential": True},
            iat={"essential": True},
        )
        registry.validate(token.claims)
        return token.claims

    def userinfo(self, access_token: str) -> dict[str, Any]:
        response = requests.get(
            self.config["userinfo_endpoint"], headers={"Authorization": f"Bearer {access_token}"}, timeout=10
        )
        assert response.status_code == 200, response.text
        return response.json()


def expected_iss(upstreams: OidcUpstreams, name: str, account: Account) -> str:
    upstream = upstreams[name]
    return upstream.issuer_for(account.tenant) if account.tenant else upstream.issuer


def sign_in(browser: Browser, rp: UpstreamRp, login: str, mfa: bool, **extra: str) -> requests.Response:
    """The authorization request, then the upstream's login form as a person fills it."""
    page = browser.get(rp.authorization_url(**extra))
    assert page.status_code == 200 and 'name="login"' in page.text, page.text
    return browser.submit({"login": login, **({"mfa": "1"} if mfa else {})})


def prepared(upstreams: OidcUpstreams, name: str) -> tuple[UpstreamRp, Account, Browser]:
    client = upstreams.register_client(name, callback_for(name))
    account = upstreams.add_account(name, f"taro.{secrets.token_hex(3)}@{name}.example", name="Yamada Taro")
    return UpstreamRp(upstreams[name], client), account, Browser(upstreams.base_url)


@pytest.mark.parametrize("name", PROVIDERS)
def test_code_flow_with_a_second_factor(oidc_upstreams: OidcUpstreams, name: str) -> None:
    rp, account, browser = prepared(oidc_upstreams, name)

    callback = callback_params(sign_in(browser, rp, account.email or "", mfa=True))
    assert browser.last is not None and browser.last.headers["Location"].startswith(callback_for(name) + "?")
    if name == "microsoft":
        assert "iss" not in callback  # Microsoft sends no RFC 9207 iss
    else:
        assert callback["iss"] == oidc_upstreams[name].issuer  # RFC 9207
    token = rp.redeem(callback)
    claims = rp.verify(token["id_token"], expected_iss(oidc_upstreams, name, account))

    assert claims["sub"] == account.sub
    assert claims["amr"] == ["pwd", "mfa"]
    assert (claims["email"], claims["email_verified"], claims["name"]) == (account.email, True, "Yamada Taro")
    assert rp.userinfo(token["access_token"])["sub"] == account.sub


@pytest.mark.parametrize("name", PROVIDERS)
def test_prompt_login_and_max_age_ask_again(oidc_upstreams: OidcUpstreams, name: str) -> None:
    rp, account, browser = prepared(oidc_upstreams, name)
    browser.get(rp.authorization_url())
    # A sign-in that the upstream records as ten minutes old.
    rp.redeem(callback_params(browser.submit({"login": account.sub, "mfa": "1", "age": "600"})))

    # The upstream session answers a plain request and a lenient max_age at once...
    assert "code" in callback_params(browser.get(rp.authorization_url()))
    lenient = browser.get(rp.authorization_url(max_age="3600"))
    claims = rp.verify(rp.redeem(callback_params(lenient))["id_token"], expected_iss(oidc_upstreams, name, account))
    assert claims["auth_time"] <= claims["iat"] - 600 and claims["amr"] == ["pwd", "mfa"]

    # ...but a stricter max_age and prompt=login bring the login form back.
    for extra, reason in (({"max_age": "300"}, "max_age"), ({"prompt": "login"}, "login_prompt")):
        page = browser.get(rp.authorization_url(**extra))
        assert page.status_code == 200 and f"reasons {reason} " in text_of(page.text), page.text
        token = rp.redeem(callback_params(browser.submit({"login": account.sub})))
        claims = rp.verify(token["id_token"], expected_iss(oidc_upstreams, name, account))
        assert claims["amr"] == ["pwd"]


@pytest.mark.parametrize("name", PROVIDERS)
def test_deny_returns_access_denied(oidc_upstreams: OidcUpstreams, name: str) -> None:
    rp, _, browser = prepared(oidc_upstreams, name)
    browser.get(rp.authorization_url())

    callback = callback_params(browser.submit({}, form_index=1))

    assert callback["error"] == "access_denied"
    assert callback["state"] == rp.state
    assert "code" not in callback


def test_amr_is_chosen_on_the_form(oidc_upstreams: OidcUpstreams) -> None:
    rp, account, browser = prepared(oidc_upstreams, "daccount")
    browser.get(rp.authorization_url())
    token = rp.redeem(callback_params(browser.submit({"login": account.sub, "amr": "pwd,otp"})))
    assert rp.verify(token["id_token"], rp.upstream.issuer)["amr"] == ["pwd", "otp"]

    browser.get(rp.authorization_url(prompt="login"))
    token = rp.redeem(callback_params(browser.submit({"login": account.sub, "amr": "-"})))
    assert "amr" not in rp.verify(token["id_token"], rp.upstream.issuer)


def test_microsoft_is_multi_tenant(oidc_upstreams: OidcUpstreams) -> None:
    microsoft = oidc_upstreams["microsoft"]
    rp = UpstreamRp(microsoft, oidc_upstreams.register_client("microsoft", callback_for("microsoft")))
    base = oidc_upstreams.base_url
    assert microsoft.discovery_url == f"{base}/microsoft/common/v2.0/.well-known/openid-configuration"
    assert rp.config["issuer"] == f"{base}/microsoft/{{tenantid}}/v2.0"
    assert "authorization_response_iss_parameter_supported" not in rp.config
    # Microsoft's tokens carry no email_verified.
    outsider = oidc_upstreams.add_account(
        "microsoft", "guest@contoso.example", tenant=oidc_upstreams.other_tenant, email_verified=None
    )

    token = rp.redeem(callback_params(sign_in(Browser(oidc_upstreams.base_url), rp, outsider.sub, mfa=False)))

    claims = rp.verify(token["id_token"], microsoft.issuer_for(oidc_upstreams.other_tenant))
    assert claims["tid"] == oidc_upstreams.other_tenant != oidc_upstreams.home_tenant
    assert "email_verified" not in claims and claims["email"] == "guest@contoso.example"
    with pytest.raises(InvalidClaimError):
        rp.verify(token["id_token"], microsoft.issuer_for(oidc_upstreams.home_tenant))


def test_each_upstream_signs_with_its_own_key(oidc_upstreams: OidcUpstreams) -> None:
    rp, account, browser = prepared(oidc_upstreams, "google")
    token = rp.redeem(callback_params(sign_in(browser, rp, account.sub, mfa=False)))
    stranger = UpstreamRp(oidc_upstreams["nttbizid"], oidc_upstreams.register_client("nttbizid", callback_for("x")))

    (key,) = stranger.jwks.keys
    with pytest.raises(BadSignatureError):
        jwt.decode(token["id_token"], key, algorithms=["RS256"])


def test_pkce_is_required(oidc_upstreams: OidcUpstreams) -> None:
    rp, account, browser = prepared(oidc_upstreams, "nttbizid")
    callback = callback_params(sign_in(browser, rp, account.sub, mfa=False))

    with pytest.raises(OAuthError) as refused:
        rp.redeem(callback, verifier=secrets.token_urlsafe(48))
    assert refused.value.error == "invalid_grant"

    plain = browser.get(rp.authorization_url().replace("code_challenge=", "ignored="))
    assert callback_params(plain)["error"] == "invalid_request"


def test_unknown_login_shows_the_form_again(oidc_upstreams: OidcUpstreams) -> None:
    rp, _, browser = prepared(oidc_upstreams, "google")
    browser.get(rp.authorization_url())

    page = browser.submit({"login": "nobody@google.example"})

    assert page.status_code == 400 and "unknown account" in page.text and 'name="login"' in page.text


def test_a_client_registered_again_has_its_new_redirect_uri(oidc_upstreams: OidcUpstreams) -> None:
    first = oidc_upstreams.register_client("google", callback_for("google"))
    moved = oidc_upstreams.register_client("google", "https://elsewhere.test/cb", client_id=first.client_id)
    rp = UpstreamRp(oidc_upstreams["google"], first)

    page = Browser(oidc_upstreams.base_url).get(rp.authorization_url())

    assert page.status_code == 400 and "redirect_uri" in page.text
    assert moved.client_id == first.client_id


# -- Facebook -----------------------------------------------------------------


def facebook_code(facebook: FacebookUpstream, session: OAuth2Session, login: str) -> dict[str, str]:
    browser = Browser(facebook.base_url)
    url, state = session.create_authorization_url(facebook.authorize_url)
    assert browser.get(url).status_code == 200
    callback = callback_params(browser.submit({"login": login}))
    assert callback["state"] == state
    return callback


def facebook_session(app: Client) -> OAuth2Session:
    return OAuth2Session(
        app.client_id,
        app.client_secret,
        redirect_uri=app.redirect_uri,
        scope="email public_profile",
        token_endpoint_auth_method="client_secret_post",
    )


def test_facebook_code_token_and_me(facebook_upstream: FacebookUpstream) -> None:
    app = facebook_upstream.register_app(callback_for("facebook"))
    account = facebook_upstream.add_account("hanako@facebook.example", name="Suzuki Hanako")
    session = facebook_session(app)
    code = facebook_code(facebook_upstream, session, account.email or "")["code"]

    token = session.fetch_token(facebook_upstream.token_url, code=code)["access_token"]
    me = f"{facebook_upstream.graph_url}/me"
    fields = {"fields": "id,name,email", "access_token": token}

    def me_with(proof: str | None) -> requests.Response:
        return requests.get(me, params={**fields, **({"appsecret_proof": proof} if proof else {})}, timeout=10)

    right = me_with(appsecret_proof(token, app.client_secret))
    assert right.status_code == 200
    assert right.json() == {"id": account.id, "name": "Suzuki Hanako", "email": "hanako@facebook.example"}

    wrong = me_with(appsecret_proof(token, "not-the-secret"))
    assert wrong.status_code == 400
    error = wrong.json()["error"]
    assert error["type"] == "GraphMethodException" and "appsecret_proof" in error["message"]
    missing = me_with(None)
    assert missing.status_code == 400 and "appsecret_proof" in missing.json()["error"]["message"]


def test_facebook_code_is_single_use_and_needs_the_secret(facebook_upstream: FacebookUpstream) -> None:
    app = facebook_upstream.register_app(callback_for("facebook"))
    account = facebook_upstream.add_account(None)
    session = facebook_session(app)
    code = facebook_code(facebook_upstream, session, account.id)["code"]

    stolen = facebook_session(Client(app.client_id, "wrong-secret", app.redirect_uri))
    with pytest.raises(OAuthError):
        stolen.fetch_token(facebook_upstream.token_url, code=code)
    token = session.fetch_token(facebook_upstream.token_url, code=code)["access_token"]
    redeem = {"client_id": app.client_id, "client_secret": app.client_secret, "redirect_uri": app.redirect_uri}
    again = requests.post(facebook_upstream.token_url, data={**redeem, "code": code}, timeout=10)
    assert again.status_code == 400 and again.json()["error"]["type"] == "OAuthException"

    me = requests.get(
        f"{facebook_upstream.graph_url}/me",
        params={"fields": "id,name,email", "appsecret_proof": appsecret_proof(token, app.client_secret)},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert me.json() == {"id": account.id, "name": "Facebook User"}  # no email on this account


def test_facebook_deny_returns_access_denied(facebook_upstream: FacebookUpstream) -> None:
    app = facebook_upstream.register_app(callback_for("facebook"))
    browser = Browser(facebook_upstream.base_url)
    url, state = facebook_session(app).create_authorization_url(facebook_upstream.authorize_url)
    browser.get(url)

    callback = callback_params(browser.submit({}, form_index=1))

    assert (callback["error"], callback["error_reason"], callback["state"]) == ("access_denied", "user_denied", state)
    assert "code" not in callback
