"""The client side of the OpenID Foundation conformance suite
(github.com/openid-certification/conformance-suite), as far as the Basic OP and
Config OP certification plans use it: what a module sends, and the conditions
it checks.

Comments name the suite's condition classes (``ValidateIdToken``,
``CheckStateInAuthorizationResponse``, ...), so a failing assertion here points
at the condition that would fail there. Everything the suite treats as a
FAILURE is asserted. A WARNING is asserted as well, unless the provider
deviates on purpose; each test names those deviations.

The suite waits in a few modules (``WaitForOneSecond``, ``WaitFor30Seconds``).
Here the provider's clock (``idp.clock``) is moved instead: the live server runs
in this process and shares it, and the suite's own "now" below is that clock.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
import secrets
import string
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import import_key
from joserfc.jws import extract_compact

from idp import clock, db
from idp.oidc import clients

from ..rp import DEMO_CLIENT, DEMO_PASSWORD, DEMO_REDIRECT, DEMO_SECRET, DEMO_USER, Browser, parse_forms

# ValidateIdToken / ValidateUserInfo...: the suite allows this much clock skew.
SKEW = 5 * 60

# OIDC Core §5.1 standard claims and their JSON types (AbstractValidateOpenIdStandardClaims).
STRING_CLAIMS = {
    "sub", "name", "given_name", "family_name", "middle_name", "nickname", "preferred_username",
    "profile", "picture", "website", "email", "gender", "birthdate", "zoneinfo", "locale", "phone_number",
}  # fmt: skip
BOOLEAN_CLAIMS = {"email_verified", "phone_number_verified"}
ADDRESS_MEMBERS = {"formatted", "street_address", "locality", "region", "postal_code", "country"}

# OIDC Core §5.4: the claims each scope asks for.
SCOPE_CLAIMS = {
    "profile": {
        "name", "given_name", "family_name", "middle_name", "nickname", "profile", "picture", "website",
        "gender", "birthdate", "zoneinfo", "locale", "updated_at", "preferred_username",
    },
    "email": {"email", "email_verified"},
    "address": {"address"},
    "phone": {"phone_number", "phone_number_verified"},
}  # fmt: skip

# EnsureIdTokenDoesNotContainNonRequestedClaims: protocol claims an ID token may always carry.
PROTOCOL_CLAIMS = {
    "iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp", "at_hash", "c_hash",
    "nbf", "jti", "sid", "s_hash", "openbanking_intent_id", "txn",
}  # fmt: skip
# CONTRACT.md "Claims": the storage service authorizes by tenant and roles, so
# every ID token carries them (and line_id for a login over a line). The suite
# warns about claims nobody asked for; this is the deliberate exception.
CONTRACT_CLAIMS = {"tenant_id", "roles", "line_id"}

# RFC 6749 §4.1.2.1 / §5.2 and the suite's error validators.
ERROR_CHARS = re.compile(r"^[\x20-\x21\x23-\x5b\x5d-\x7e]+$")
ERROR_DESCRIPTION_CHARS = re.compile(r"^[\x09\x0a\x0d\x20-\x21\x23-\x5b\x5d-\x7e]*$")
ERROR_URI_CHARS = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+$")
ERROR_RESPONSE_PARAMS = {"error", "error_description", "error_uri", "state", "session_state", "iss"}
VSCHAR = re.compile(r"^[\x20-\x7e]+$")
B64URL = re.compile(r"^[A-Za-z0-9_-]+$")
PRIVATE_JWK_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}
KTY_FOR_ALG = {"RS": "RSA", "PS": "RSA", "ES": "EC"}
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def shannon_entropy(value: str) -> float:
    """AbstractEnsureMinimumEntropy: bits per character, from the character
    frequencies of the value itself, times its length."""
    counts, n = Counter(value), len(value)
    per_char = -sum(c / n * math.log2(c / n) for c in counts.values())
    return per_char * n


def ensure_minimum_entropy(value: str, bits: float = 96) -> None:
    """EnsureMinimum{AuthorizationCode,AccessToken,RefreshToken}Entropy."""
    actual = shannon_entropy(value)
    assert actual > bits, f"Shannon entropy {actual:.1f} bits, more than {bits} required"


def ensure_minimum_length(value: str, bits: int = 128) -> None:
    """EnsureMinimum{AuthorizationCode,RefreshToken}Length: at least 128 bits of bytes."""
    assert len(value.encode()) * 8 >= bits, f"{len(value.encode()) * 8} bits, {bits} required"


def random_alnum(length: int) -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(length))


def now() -> int:
    return clock.timestamp()


def wait(seconds: int) -> None:
    """The suite's WaitFor*Seconds, without sleeping."""
    clock.advance(timedelta(seconds=seconds))


def half_hash(value: str, alg: str) -> str:
    """OIDC Core §3.1.3.6 at_hash, §3.3.2.11 c_hash: the left half of the alg's hash."""
    digest = {"256": hashlib.sha256, "384": hashlib.sha384, "512": hashlib.sha512}[alg[-3:]](value.encode())
    half = digest.digest()[: digest.digest_size // 2]
    return base64.urlsafe_b64encode(half).rstrip(b"=").decode()


# --- clients -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Client:
    client_id: str
    secret: str
    redirect_uri: str = DEMO_REDIRECT
    auth_method: str = "client_secret_basic"


DEMO = Client(DEMO_CLIENT, DEMO_SECRET)


def register_client(live: Any, client_id: str, auth_method: str = "client_secret_basic") -> Client:
    """A further static client (the suite's ``client2`` or ``client_secret_post`` block)."""
    secret = random_alnum(43)  # the suite does not URL-encode Basic credentials
    with live.app.app_context():
        clients.register(
            clients.Registration(
                name=f"conformance {client_id}",
                client_id=client_id,
                secret=secret,
                redirect_uris=[DEMO_REDIRECT],
                auth_method=auth_method,
            )
        )
        db.commit()
    return Client(client_id, secret, DEMO_REDIRECT, auth_method)


# --- generic checks ------------------------------------------------------------------------------


def check_standard_claims(claims: dict[str, Any]) -> None:
    """ValidateIdTokenStandardClaims / ValidateUserInfoStandardClaims: JSON types."""
    for name, value in claims.items():
        if name in STRING_CLAIMS:
            assert isinstance(value, str), f"{name} must be a string"
        elif name in BOOLEAN_CLAIMS:
            assert isinstance(value, bool), f"{name} must be a boolean"
        elif name == "updated_at":
            # EnsureIdTokenUpdatedAtValid / EnsureUserInfoUpdatedAtValid
            assert isinstance(value, int | float) and not isinstance(value, bool)
            assert 631152000 <= value <= now() + SKEW, "updated_at before 1990 or in the future"
        elif name == "address":
            assert isinstance(value, dict) and value, "address must be a non-empty object"
            for member in ADDRESS_MEMBERS & value.keys():
                assert isinstance(value[member], str), f"address.{member} must be a string"


def check_server_jwks(jwks: Any) -> None:
    """ValidateServerJWKs, CheckForKeyIdInServerJWKs, CheckDistinctKeyIdValueInServerJWKs,
    EnsureServerJwksDoesNotContainPrivateOrSymmetricKeys."""
    assert isinstance(jwks, dict) and isinstance(jwks.get("keys"), list) and jwks["keys"], "no keys array"
    for key in jwks["keys"]:
        assert "kty" in key, key
        assert key["kty"] != "oct", "symmetric key published"
        assert not PRIVATE_JWK_MEMBERS & key.keys(), f"private parts published in {key.get('kid')}"
        for member in {"RSA": ("n", "e"), "EC": ("x", "y")}.get(key["kty"], ()):
            assert B64URL.match(key.get(member, "")), f"{member} is not unpadded base64url"
        assert key.get("kid"), "every key must have a kid"
        import_key(key)  # parses, as the suite's Nimbus does
    kids = [key["kid"] for key in jwks["keys"]]
    assert len(kids) == len(set(kids)), "kids must be distinct"


def verify_signature_using_kid(token: str, jwks: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """ValidateIdTokenSignature and ValidateIdTokenSignatureUsingKid: the header's
    kid names exactly one published key of the alg's type, which verifies the token."""
    header = extract_compact(token.encode()).protected
    alg = header["alg"]
    assert alg != "none", "unsigned ID token"
    kty = KTY_FOR_ALG[alg[:2]]
    keys = [k for k in jwks["keys"] if k["kty"] == kty]
    if "kid" in header:
        keys = [k for k in keys if k.get("kid") == header["kid"]]
        assert keys, f"no {kty} key with kid {header['kid']} in the JWKS"
        for key in keys:
            assert key.get("alg", alg) == alg, "the key's alg differs from the header's"
            assert key.get("use", "sig") == "sig", "the key is not for signatures"
        assert len(keys) == 1, "more than one key matches the kid"
    for key in keys:
        try:
            return header, jwt.decode(token, import_key(key), algorithms=[alg]).claims
        except JoseError:
            continue  # the next key may verify it
    raise AssertionError("no published key verifies the ID token")


def check_error_redirect(response: requests.Response, client: Client, issuer: str, state: str | None) -> dict:
    """performGenericAuthorizationEndpointErrorResponseValidation: an error sent
    back to the registered redirect URI in the query, never a code."""
    params = leave_for(response, client)
    if state is not None:
        assert params.get("state") == state, "CheckStateInAuthorizationResponse"
    assert params.get("iss", issuer) == issuer, "ValidateIssIfPresentInAuthorizationResponse"
    assert "error" in params and ERROR_CHARS.match(params["error"]), "EnsureErrorFromAuthorizationEndpointResponse"
    assert "code" not in params, "RejectAuthCodeInAuthorizationEndpointResponse"
    assert not urlsplit(response.headers["Location"]).fragment, "RejectAuthCodeInAuthorizationEndpointResponse"
    assert set(params) <= ERROR_RESPONSE_PARAMS, f"unexpected parameters {set(params) - ERROR_RESPONSE_PARAMS}"
    check_error_description(params)
    return params


def check_error_description(body: dict[str, Any]) -> None:
    """Validate{ErrorDescription,ErrorUri}From...ResponseError and the CR/LF/TAB warning."""
    description = body.get("error_description")
    if description is not None:
        assert ERROR_DESCRIPTION_CHARS.match(description), "error_description has illegal characters"
        assert not re.search(r"[\r\n\t]", description), "error_description has CR, LF or TAB"
    if "error_uri" in body:
        assert ERROR_URI_CHARS.match(body["error_uri"]), "error_uri has illegal characters"


def check_token_error(response: requests.Response, error: str = "invalid_grant") -> dict[str, Any]:
    """CheckTokenEndpointHttpStatus400, CheckTokenEndpointReturnedJsonContentType,
    CheckErrorFromTokenEndpointResponseErrorInvalidGrant, ValidateErrorFromTokenEndpointResponseError."""
    assert response.status_code == 400, (response.status_code, response.text)
    assert media_type(response) == "application/json"
    body = response.json()
    assert body.get("error") == error, body
    assert ERROR_CHARS.match(body["error"])
    check_error_description(body)
    return body


def media_type(response: requests.Response) -> str:
    return response.headers.get("Content-Type", "").split(";")[0].strip().lower()


def leave_for(response: requests.Response, client: Client) -> dict[str, str]:
    """The query of a redirect to the client's registered URI (the response mode
    for ``code`` is the query, OIDC Core §3.1.2.5). CheckMatchingCallbackParameters:
    parameters of the registered URI itself come back unchanged."""
    assert response.is_redirect, f"expected a redirect to the client, got {response.status_code}"
    location = response.headers["Location"]
    registered = urlsplit(client.redirect_uri)
    target = urlsplit(location)
    assert (target.scheme, target.netloc, target.path) == (registered.scheme, registered.netloc, registered.path), (
        f"redirected to {location}, not the registered {client.redirect_uri}"
    )
    params = dict(parse_qsl(target.query, keep_blank_values=True))
    for name, value in parse_qsl(registered.query, keep_blank_values=True):
        assert params.pop(name, None) == value, f"registered redirect_uri parameter {name} changed"
    return params


def check_error_page(response: requests.Response, lang: str) -> None:
    """What the suite leaves to a screenshot: the person sees an error page, in
    their language, and the browser is sent nowhere (RFC 6749 §4.1.2.1)."""
    assert response.status_code == 400, response.status_code
    assert "Location" not in response.headers, f"redirected to {response.headers['Location']}"
    assert media_type(response) == "text/html"
    html = response.text
    assert f'<html lang="{lang}"' in html, "page not in the requested language"
    title = re.search(r"<title>(.*?)</title>", html, re.S)
    assert title is not None
    assert bool(JAPANESE.search(title.group(1))) == (lang == "ja"), f"title {title.group(1)!r} is not in {lang}"


# --- the suite's client --------------------------------------------------------------------------


@dataclass
class Flow:
    """One authorization: what was sent and everything that came back."""

    request: dict[str, str]
    login_shown: bool
    callback: dict[str, str] = field(default_factory=dict)
    token: dict[str, Any] = field(default_factory=dict)
    id_token: dict[str, Any] = field(default_factory=dict)
    id_token_header: dict[str, Any] = field(default_factory=dict)
    userinfo: dict[str, Any] | None = None


class Suite:
    """A static client with ``server_metadata=discovery`` (AbstractOIDCCServerTest)."""

    def __init__(self, live: Any, client: Client = DEMO) -> None:
        self.live = live
        self.client = client
        self.browser: Browser = live.browser()
        self.config = self.discover(live.url + "/.well-known/openid-configuration")
        self.issuer: str = self.config["issuer"]
        self.jwks = requests.get(self.config["jwks_uri"], timeout=10).json()  # FetchServerKeys
        check_server_jwks(self.jwks)
        # SetProtectedResourceUrlToUserInfoEndpoint: userinfo is mandatory for certification.
        assert self.config.get("userinfo_endpoint"), "no userinfo_endpoint"
        self.check_auth_method_supported(client)

    @staticmethod
    def discover(url: str) -> dict[str, Any]:
        """GetDynamicServerConfiguration and CheckServerConfiguration."""
        config = requests.get(url, timeout=10).json()
        assert isinstance(config, dict)
        for name in ("issuer", "authorization_endpoint", "token_endpoint"):
            assert isinstance(config.get(name), str) and config[name], f"{name} missing"
        return config

    def check_auth_method_supported(self, client: Client) -> None:
        """EnsureServerConfigurationSupportsClientSecret{Basic,Post}: absent means basic."""
        methods = self.config.get("token_endpoint_auth_methods_supported", ["client_secret_basic"])
        assert client.auth_method in methods

    def scopes_supported(self, *scopes: str) -> bool:
        """OIDCCCheckScopesSupportedContainScopeTest: the scope modules are skipped otherwise."""
        supported = self.config.get("scopes_supported")
        return isinstance(supported, list) and set(scopes) <= set(supported)

    # -- authorization endpoint

    def request(
        self, scope: str = "openid", *, client: Client | None = None, state_length: int = 10, **extra: str | None
    ) -> dict[str, str]:
        """CreateAuthorizationRequestSteps: the standard request, ``extra`` added
        (or, with the value None, removed)."""
        client = client or self.client
        params: dict[str, str | None] = {
            "client_id": client.client_id,
            "redirect_uri": client.redirect_uri,
            "scope": scope,
            "state": random_alnum(state_length),
            "nonce": random_alnum(10),
            "response_type": "code",
            **extra,
        }
        return {k: v for k, v in params.items() if v is not None}

    def send(self, params: dict[str, str], method: str = "GET") -> requests.Response:
        """The browser goes to the authorization endpoint, parameters in the given order."""
        endpoint = self.config["authorization_endpoint"]
        if method == "POST":
            sent = self.browser.http.post(endpoint, data=params, allow_redirects=False, timeout=10)
            return self.browser.follow(sent)
        return self.browser.get(endpoint + "?" + urlencode(list(params.items())))

    def authorize(self, params: dict[str, str], method: str = "GET") -> tuple[requests.Response, bool]:
        """Send the request and sign in if the provider asks; the response that
        leaves the provider, and whether a login page was shown."""
        page = self.send(params, method)
        if page.is_redirect:
            return page, False
        forms = parse_forms(page.text)
        assert page.status_code == 200 and any({"email", "password"} <= f["fields"].keys() for f in forms), (
            f"expected a login page, got {page.status_code}"
        )
        return self.browser.submit({"email": DEMO_USER, "password": DEMO_PASSWORD}), True

    def check_callback(self, response: requests.Response, params: dict[str, str], client: Client) -> dict[str, str]:
        """onAuthorizationCallbackResponse for response_type=code."""
        callback = leave_for(response, client)
        assert callback.get("iss", self.issuer) == self.issuer, "ValidateIssIfPresentInAuthorizationResponse"
        assert "error" not in callback, f"CheckIfAuthorizationEndpointError: {callback}"
        assert callback.get("state") == params.get("state"), "CheckStateInAuthorizationResponse"
        assert callback.get("code"), "ExtractAuthorizationCodeFromAuthorizationResponse"
        return callback

    # -- token endpoint

    def token_request(self, data: dict[str, str], client: Client | None = None) -> requests.Response:
        """A token request with the client's authentication method."""
        client = client or self.client
        headers = {"Accept": "application/json"}
        auth = None
        if client.auth_method == "client_secret_post":
            data = {**data, "client_id": client.client_id, "client_secret": client.secret}
        else:
            auth = (client.client_id, client.secret)
        return requests.post(self.config["token_endpoint"], data=data, auth=auth, headers=headers, timeout=10)

    def redeem(self, code: str, client: Client | None = None, **extra: str) -> requests.Response:
        """CreateTokenEndpointRequestForAuthorizationCodeGrant."""
        client = client or self.client
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": client.redirect_uri, **extra}
        return self.token_request(data, client)

    @staticmethod
    def check_token_response(response: requests.Response) -> dict[str, Any]:
        """CallTokenEndpoint, CheckIfTokenEndpointResponseError, ExtractAccessTokenFromTokenResponse,
        ExtractExpiresInFromTokenEndpointResponse, ExtractIdTokenFromTokenResponse (OIDC Core §3.1.3.3)."""
        assert 200 <= response.status_code < 300, (response.status_code, response.text)
        body = response.json()
        assert isinstance(body, dict)
        assert "error" not in body, body
        assert body.get("access_token"), "no access_token"
        # oidcc-server warns when expires_in is missing; the provider always sends it.
        assert isinstance(body.get("expires_in"), int | float) and body["expires_in"] > 0, "expires_in"
        assert body.get("id_token"), "no id_token in the token response"
        return body

    # -- ID token

    def check_id_token(
        self,
        id_token: str,
        client: Client,
        nonce: str | None,
        access_token: str | None = None,
        code: str | None = None,
        *,
        check_nonce: bool = True,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """PerformStandardIdTokenChecks; returns the header and the claims."""
        header, claims = verify_signature_using_kid(id_token, self.jwks)
        t = now()
        # ValidateIdToken
        assert claims.get("iss") == self.issuer, "iss"
        aud = claims.get("aud")
        assert aud == client.client_id or (isinstance(aud, list) and client.client_id in aud), "aud"
        assert isinstance(claims.get("exp"), int | float) and claims["exp"] > t - SKEW, "expired"
        assert isinstance(claims.get("iat"), int | float), "iat missing"
        assert t - SKEW <= claims["iat"] <= t + SKEW, "iat in the future or too old"
        if "auth_time" in claims:
            assert t - 365 * 86400 <= claims["auth_time"] <= t + SKEW, "auth_time in the future or over a year old"
        if "acr" in claims:
            assert isinstance(claims["acr"], str) and claims["acr"], "ValidateIdTokenACRClaimAgainstRequest"
        check_standard_claims(claims)
        if check_nonce:  # ValidateIdTokenNonce: the sent nonce, or none at all
            assert claims.get("nonce") == nonce, "ValidateIdTokenNonce"
        assert isinstance(claims.get("sub"), str) and claims["sub"], "CheckForSubjectInIdToken"
        # ValidateAtHash / ValidateCHash: optional, but correct when present.
        if "at_hash" in claims:
            assert access_token is not None and claims["at_hash"] == half_hash(access_token, header["alg"])
        if "c_hash" in claims:
            assert code is not None and claims["c_hash"] == half_hash(code, header["alg"])
        return header, claims

    # -- userinfo

    def userinfo(self, access_token: str, how: str = "get") -> requests.Response:
        """CallUserInfoEndpoint: GET or POST with the Bearer header, or POST with
        the token in the form body (RFC 6750 §2.1, §2.2)."""
        url = self.config["userinfo_endpoint"]
        bearer = {"Authorization": f"Bearer {access_token}"}
        if how == "get":
            return requests.get(url, headers=bearer, timeout=10)
        if how == "post-header":
            return requests.post(url, headers=bearer, timeout=10)
        return requests.post(url, data={"access_token": access_token}, timeout=10)

    @staticmethod
    def check_userinfo(response: requests.Response) -> dict[str, Any]:
        """EnsureContentTypeJson, ExtractUserInfoFromUserInfoEndpointResponse,
        ValidateUserInfoStandardClaims, EnsureUserInfoContainsSub, EnsureUserInfoUpdatedAtValid,
        EnsureMemberValuesInClaimNameReferenceToMemberNamesInClaimSources."""
        assert response.status_code == 200, (response.status_code, response.text)
        assert media_type(response) == "application/json"
        body = response.json()
        assert isinstance(body, dict), "userinfo is not a JSON object"
        check_standard_claims(body)
        assert isinstance(body.get("sub"), str) and body["sub"], "EnsureUserInfoContainsSub"
        for source in body.get("_claim_names", {}).values():
            assert source in body.get("_claim_sources", {})
        return body

    # -- whole flows

    def code_flow(
        self,
        params: dict[str, str] | None = None,
        *,
        method: str = "GET",
        client: Client | None = None,
        login: bool | None = None,
    ) -> Flow:
        """The suite's happy flow: authorize, redeem the code, check the ID token, call userinfo.

        ``login``: True if the provider must show its login page (ExpectSecondLoginPage),
        False if it must answer at once from the session, None if either is fine."""
        client = client or self.client
        params = params if params is not None else self.request(client=client)
        response, login_shown = self.authorize(params, method)
        if login is not None:
            assert login_shown == login, "login page shown" if login_shown else "no login page shown"
        flow = Flow(request=params, login_shown=login_shown)
        flow.callback = self.check_callback(response, params, client)
        flow.token = self.check_token_response(self.redeem(flow.callback["code"], client))
        flow.id_token_header, flow.id_token = self.check_id_token(
            flow.token["id_token"], client, params.get("nonce"), flow.token["access_token"], flow.callback["code"]
        )
        # requestProtectedResource: EnsureHttpStatusCodeIs200
        info = self.userinfo(flow.token["access_token"])
        assert info.status_code == 200, (info.status_code, info.text)
        flow.userinfo = info.json()
        return flow

    def check_scope_claims(self, flow: Flow, scopes: set[str], held: set[str]) -> None:
        """AbstractOIDCCReturnedClaimsServerTest: userinfo checked strictly, and its
        sub is the ID token's (VerifyUserInfoAndIdTokenInTokenEndpointSameSub).
        VerifyScopesReturnedInUserInfoClaims warns about each claim of the scopes
        that is missing; ``held`` are those the provider has for its users."""
        info = self.check_userinfo(self.userinfo(flow.token["access_token"]))
        assert info["sub"] == flow.id_token["sub"], "VerifyUserInfoAndIdTokenInTokenEndpointSameSub"
        wanted = set().union(*(SCOPE_CLAIMS[s] for s in scopes))
        missing = (wanted & held) - info.keys()
        assert not missing, f"VerifyScopesReturnedInUserInfoClaims: {missing} missing"
        flow.userinfo = info
