"""The OpenID Foundation's Basic OP certification plan (``oidcc-basic-certification-test-plan``),
one test per module, with the module's name as the test id; run with a static
client (the demo client, client_secret_basic) and ``server_metadata=discovery``.

Three modules of the plan are not part of it for a static client
(``@VariantNotApplicable(ClientRegistration = static_client)``) and are left out:

- ``oidcc-idtoken-signature``: registers a client dynamically without
  ``id_token_signed_response_alg`` and expects RS256 with a kid;
- ``oidcc-idtoken-unsigned``: registers a client dynamically with
  ``id_token_signed_response_alg=none``;
- ``oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported``:
  registers ``request_uris`` dynamically.

The provider has no dynamic registration.

``oidcc-scope-address``, ``oidcc-scope-phone`` and ``oidcc-scope-all`` are skipped
here as in the suite, for as long as discovery's ``scopes_supported`` lacks
``address`` and ``phone`` (the provider keeps neither); advertise them and the
tests hold the provider to them.

Headings number the modules in the plan's order.

Where the suite would end a module with a WARNING because this provider deviates
on purpose, the test says so in its docstring and does not assert that part:
- the ID token always carries ``tenant_id`` and ``roles``, and ``email`` with the
  ``email`` scope (CONTRACT.md "Claims");
- the profile scope releases ``name`` only (the provider keeps no other profile data);
- no ``acr`` (there is no ACR policy), and the ``claims`` request parameter is not
  supported (``claims_parameter_supported: false``).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable

import pytest
import requests

from .suite import (
    CONTRACT_CLAIMS,
    PROTOCOL_CLAIMS,
    VSCHAR,
    Client,
    Flow,
    Suite,
    check_error_page,
    check_error_redirect,
    check_token_error,
    ensure_minimum_entropy,
    ensure_minimum_length,
    media_type,
    now,
    random_alnum,
    register_client,
    wait,
)

MODULES: dict[str, Callable[[Suite], None]] = {}
# CheckErrorFromAuthorizationEndpointIsOneThatRequiredAUserInterface (OIDC Core §3.1.2.6)
NEEDS_USER_INTERFACE = {"login_required", "interaction_required", "account_selection_required", "consent_required"}


def module(name: str) -> Callable[[Callable[[Suite], None]], Callable[[Suite], None]]:
    def register(test: Callable[[Suite], None]) -> Callable[[Suite], None]:
        MODULES[name] = test
        return test

    return register


# --- 1-2: the code flow itself -------------------------------------------------------------------


@module("oidcc-server")
def server(suite: Suite) -> None:
    """OIDCCServerTest: the plain code flow with scope=openid. The code is long and
    random enough (EnsureMinimumAuthorizationCodeLength/Entropy), the ID token
    holds nothing that was not asked for (EnsureIdTokenDoesNotContainName,
    EnsureIdTokenDoesNotContainNonRequestedClaims; the contract's tenant and roles
    excepted), and ``expires_in`` is there (WARNING otherwise)."""
    flow = suite.code_flow()
    code = flow.callback["code"]
    ensure_minimum_length(code)
    ensure_minimum_entropy(code)
    assert flow.token["token_type"].lower() == "bearer"
    assert "name" not in flow.id_token
    extra = set(flow.id_token) - PROTOCOL_CLAIMS - CONTRACT_CLAIMS
    assert not extra, f"claims nobody asked for: {extra}"


@module("oidcc-response-type-missing")
def response_type_missing(suite: Suite) -> None:
    """OIDCCResponseTypeMissing: no response_type. The client and redirect URI are
    valid, so the provider redirects the error back (RFC 6749 §4.1.2.1) rather than
    showing a page: ``invalid_request`` with the state, no code
    (CheckErrorFromAuthorizationEndpointErrorInvalidRequestOrUnsupportedResponseType)."""
    params = suite.request(response_type=None)
    response = suite.send(params)
    error = check_error_redirect(response, suite.client, suite.issuer, params["state"])
    assert error["error"] in ("invalid_request", "unsupported_response_type")
    assert error["iss"] == suite.issuer  # RFC 9207, advertised in discovery


# --- 5-7: userinfo -------------------------------------------------------------------------------


def _userinfo_module(suite: Suite, how: str) -> None:
    """AbstractOIDCCUserInfoTest: a JSON object with standard claim types and a sub."""
    flow = suite.code_flow()
    info = suite.check_userinfo(suite.userinfo(flow.token["access_token"], how))
    # Not checked by the suite for response_type=code, but OIDC Core §5.3.2 requires it.
    assert info["sub"] == flow.id_token["sub"]


@module("oidcc-userinfo-get")
def userinfo_get(suite: Suite) -> None:
    """OIDCCUserInfoGet: GET with the Bearer header."""
    _userinfo_module(suite, "get")


@module("oidcc-userinfo-post-header")
def userinfo_post_header(suite: Suite) -> None:
    """OIDCCUserInfoPostHeader: POST with the Bearer header and no body."""
    _userinfo_module(suite, "post-header")


@module("oidcc-userinfo-post-body")
def userinfo_post_body(suite: Suite) -> None:
    """OIDCCUserInfoPostBody: POST with ``access_token`` in the form body and no
    Authorization header (RFC 6750 §2.2). The provider supports it, so the full
    userinfo checks apply (a non-2xx would only be a WARNING)."""
    _userinfo_module(suite, "post-body")


# --- 8: nonce ------------------------------------------------------------------------------------


@module("oidcc-ensure-request-without-nonce-succeeds-for-code-flow")
def without_nonce(suite: Suite) -> None:
    """OIDCCEnsureRequestWithoutNonceSucceedsForCodeFlow: nonce is optional in the
    code flow (OIDC Core §3.1.2.1). The suite stops after the callback; the token
    step is added here, because ValidateIdTokenNonce would then require that the
    ID token has no nonce."""
    params = suite.request(nonce=None)
    response, _ = suite.authorize(params)
    callback = suite.check_callback(response, params, suite.client)
    token = suite.check_token_response(suite.redeem(callback["code"]))
    _, claims = suite.check_id_token(token["id_token"], suite.client, None, token["access_token"])
    assert "nonce" not in claims


# --- 9-14: scopes --------------------------------------------------------------------------------


def _skip_unless_scopes_supported(suite: Suite, *scopes: str) -> None:
    if not suite.scopes_supported("openid", *scopes):
        missing = [s for s in ("openid", *scopes) if not suite.scopes_supported(s)]
        pytest.skip(f"OIDCCCheckScopesSupportedContainScopeTest: scopes_supported lacks {' '.join(missing)}")


@module("oidcc-scope-profile")
def scope_profile(suite: Suite) -> None:
    """OIDCCScopeProfile: scope=openid profile; userinfo valid, same sub as the ID
    token. The suite warns unless all 14 profile claims come back; the provider
    keeps only ``name``, which must."""
    _skip_unless_scopes_supported(suite, "profile")
    flow = suite.code_flow(suite.request("openid profile"))
    suite.check_scope_claims(flow, {"profile"}, held={"name"})


def _check_scope_email(suite: Suite, params: dict[str, str]) -> None:
    """OIDCCScopeEmail: email and email_verified in userinfo, name nowhere
    (EnsureIdTokenDoesNotContainName, EnsureUserInfoDoesNotContainName). The
    suite warns about email in the ID token (EnsureIdTokenDoesNotContainEmailForScopeEmail);
    the contract puts it there."""
    flow = suite.code_flow(params)
    suite.check_scope_claims(flow, {"email"}, held={"email", "email_verified"})
    assert isinstance(flow.userinfo, dict)
    assert isinstance(flow.userinfo["email_verified"], bool)
    assert "name" not in flow.id_token
    assert "name" not in flow.userinfo


@module("oidcc-scope-email")
def scope_email(suite: Suite) -> None:
    """OIDCCScopeEmail: scope=openid email."""
    _skip_unless_scopes_supported(suite, "email")
    _check_scope_email(suite, suite.request("openid email"))


@module("oidcc-scope-address")
def scope_address(suite: Suite) -> None:
    """OIDCCScopeAddress: scope=openid address; a non-empty address object."""
    _skip_unless_scopes_supported(suite, "address")
    flow = suite.code_flow(suite.request("openid address"))
    suite.check_scope_claims(flow, {"address"}, held={"address"})


@module("oidcc-scope-phone")
def scope_phone(suite: Suite) -> None:
    """OIDCCScopePhone: scope=openid phone; phone_number and phone_number_verified."""
    _skip_unless_scopes_supported(suite, "phone")
    flow = suite.code_flow(suite.request("openid phone"))
    suite.check_scope_claims(flow, {"phone"}, held={"phone_number", "phone_number_verified"})


@module("oidcc-scope-all")
def scope_all(suite: Suite) -> None:
    """OIDCCScopeAll: scope=openid email phone address profile."""
    scopes = ("email", "phone", "address", "profile")
    _skip_unless_scopes_supported(suite, *scopes)
    flow = suite.code_flow(suite.request("openid " + " ".join(scopes)))
    suite.check_scope_claims(flow, set(scopes), held={"name", "email", "email_verified"})


@module("oidcc-alternate-happy-flow")
def alternate_happy_flow(suite: Suite) -> None:
    """OIDCCAlternateHappyFlow: scope-email with the scope reversed (``email openid``,
    order does not matter, RFC 6749 §3.3) and the query parameters in reverse
    alphabetical order (BuildPlainRedirectToAuthorizationEndpointReorderedParams)."""
    _skip_unless_scopes_supported(suite, "email")
    params = suite.request("email openid")
    reordered = dict(sorted(params.items(), reverse=True))
    assert list(reordered) != list(params)
    _check_scope_email(suite, reordered)


# --- 15-27: request parameters -------------------------------------------------------------------


@module("oidcc-display-page")
def display_page(suite: Suite) -> None:
    """OIDCCDisplayPage: display=page must not cause an error (OIDC Core §3.1.2.1)."""
    suite.code_flow(suite.request(display="page"))


@module("oidcc-display-popup")
def display_popup(suite: Suite) -> None:
    """OIDCCDisplayPopup: display=popup must not cause an error."""
    suite.code_flow(suite.request(display="popup"))


@module("oidcc-prompt-login")
def prompt_login(suite: Suite) -> None:
    """OIDCCPromptLogin: after a sign-in and a second, the same browser asks again
    with prompt=login; the provider shows its login page although a session
    exists (ExpectSecondLoginPage, the suite's screenshot), and the second
    auth_time is later (CheckSecondIdTokenAuthTimeIsLaterIfPresent)."""
    first = suite.code_flow(login=True)
    wait(1)
    second = suite.code_flow(suite.request(prompt="login"), login=True)
    assert second.id_token["auth_time"] > first.id_token["auth_time"]


@module("oidcc-prompt-none-not-logged-in")
def prompt_none_not_logged_in(suite: Suite) -> None:
    """OIDCCPromptNoneNotLoggedIn: no session and prompt=none: an immediate error
    redirect that needs a user interface
    (CheckErrorFromAuthorizationEndpointIsOneThatRequiredAUserInterface), with
    the 128-character state intact, and never a login page."""
    params = suite.request(prompt="none", state_length=128)
    response = suite.send(params)
    error = check_error_redirect(response, suite.client, suite.issuer, params["state"])
    assert error["error"] in NEEDS_USER_INTERFACE
    assert error["error"] == "login_required"  # what OIDC Core §3.1.2.6 names for a missing sign-in


def _same_auth_twice(first: Flow, second: Flow) -> None:
    """AbstractOIDCCSameAuthTwiceServerTest: CheckIdTokenAuthTimeClaimsSameIfPresent,
    CheckIdTokenSubConsistentForSecondAuthorization."""
    a, b = first.id_token, second.id_token
    if "auth_time" in a and "auth_time" in b:
        assert a["auth_time"] == b["auth_time"]
    assert a["sub"] == b["sub"]


@module("oidcc-prompt-none-logged-in")
def prompt_none_logged_in(suite: Suite) -> None:
    """OIDCCPromptNoneLoggedIn: with a session, prompt=none succeeds silently."""
    first = suite.code_flow(login=True)
    second = suite.code_flow(suite.request(prompt="none"), login=False)
    _same_auth_twice(first, second)


@module("oidcc-max-age-1")
def max_age_1(suite: Suite) -> None:
    """OIDCCMaxAge1: two seconds after a sign-in, max_age=1 makes the provider
    sign the person in again (OIDC Core §3.1.2.1; the suite's screenshot). The
    second ID token has auth_time (CheckIdTokenAuthTimeClaimPresentDueToMaxAge),
    later than the first and recent (CheckIdTokenAuthTimeIsRecentIfPresent)."""
    first = suite.code_flow(login=True)
    wait(2)
    second = suite.code_flow(suite.request(max_age="1"), login=True)
    assert "auth_time" in second.id_token
    assert second.id_token["auth_time"] > first.id_token.get("auth_time", 0)
    assert second.id_token["auth_time"] >= now() - 5 * 60 - 1


@module("oidcc-max-age-10000")
def max_age_10000(suite: Suite) -> None:
    """OIDCCMaxAge10000: a sign-in with max_age=15000, then max_age=10000 is
    answered from the session; both ID tokens carry the same auth_time."""
    first = suite.code_flow(suite.request(max_age="15000"), login=True)
    second = suite.code_flow(suite.request(max_age="10000"), login=False)
    assert "auth_time" in first.id_token and "auth_time" in second.id_token
    _same_auth_twice(first, second)


@module("oidcc-ensure-request-with-unknown-parameter-succeeds")
def unknown_parameter(suite: Suite) -> None:
    """OIDCCEnsureRequestWithUnknownParameterSucceeds: extra=foobar is ignored (RFC 6749 §3.1)."""
    suite.code_flow(suite.request(extra="foobar"))


@module("oidcc-id-token-hint")
def id_token_hint(suite: Suite) -> None:
    """OIDCCIdTokenHint: prompt=none with the first ID token as id_token_hint is
    answered silently for the same user (OIDC Core §3.1.2.1)."""
    first = suite.code_flow(login=True)
    hint = first.token["id_token"]
    second = suite.code_flow(suite.request(prompt="none", id_token_hint=hint), login=False)
    _same_auth_twice(first, second)


@module("oidcc-login-hint")
def login_hint(suite: Suite) -> None:
    """OIDCCLoginHint: login_hint (the suite's default, an unknown address) must not cause an error."""
    suite.code_flow(suite.request(login_hint="buffy@127.0.0.1"))


@module("oidcc-ui-locales")
def ui_locales(suite: Suite) -> None:
    """OIDCCUiLocales: ui_locales=se (a language the provider does not speak) must not cause an error."""
    suite.code_flow(suite.request(ui_locales="se"))


@module("oidcc-claims-locales")
def claims_locales(suite: Suite) -> None:
    """OIDCCClaimsLocales: claims_locales=se must not cause an error (OIDC Core §5.2)."""
    suite.code_flow(suite.request(claims_locales="se"))


@module("oidcc-ensure-request-with-acr-values-succeeds")
def acr_values(suite: Suite) -> None:
    """OIDCCEnsureRequestWithAcrValuesSucceeds: acr_values (discovery's
    acr_values_supported, else "1 2") must not cause an error. The suite warns
    when the ID token has no matching acr; the provider has no ACR policy and
    sends none, and if it ever sends one it must be one of those requested
    (ValidateIdTokenACRClaimAgainstAcrValuesRequest)."""
    requested = " ".join(suite.config.get("acr_values_supported", [])) or "1 2"
    flow = suite.code_flow(suite.request(acr_values=requested))
    if "acr" in flow.id_token:
        assert flow.id_token["acr"] in requested.split()


# --- 28-29: code reuse ---------------------------------------------------------------------------


@module("oidcc-codereuse")
def codereuse(suite: Suite) -> None:
    """OIDCCAuthCodeReuse: the same code a second time is refused with 400
    invalid_grant as JSON (RFC 6749 §4.1.2, §5.2); a 200 would be a WARNING."""
    flow = suite.code_flow()
    check_token_error(suite.redeem(flow.callback["code"]))


@module("oidcc-codereuse-30seconds")
def codereuse_30seconds(suite: Suite) -> None:
    """OIDCCAuthCodeReuseAfter30Seconds: 30 s later the code is refused (here a 200
    is a FAILURE) and the access token it gave no longer works at userinfo
    (RFC 6749 §4.1.2 "SHOULD revoke"; a WARNING in the suite). Beyond the suite:
    the refresh token of that grant is dead as well."""
    flow = suite.code_flow()
    wait(30)
    check_token_error(suite.redeem(flow.callback["code"]))
    after = suite.userinfo(flow.token["access_token"])
    assert 400 <= after.status_code < 500, after.status_code
    assert after.status_code == 401
    refresh = suite.token_request({"grant_type": "refresh_token", "refresh_token": flow.token["refresh_token"]})
    check_token_error(refresh)


# --- 30-31: redirect URI and POST ----------------------------------------------------------------


@module("oidcc-ensure-registered-redirect-uri")
def registered_redirect_uri(suite: Suite) -> None:
    """OIDCCEnsureRegisteredRedirectUri: the registered URI with an extra path
    segment is not registered (exact match, RFC 9700 §4.1.3): an error page, no
    redirect to either URI (ExpectRedirectUriErrorPage, the suite's screenshot).
    The page is in the person's language: Japanese by default, English on request."""
    params = suite.request(redirect_uri=f"{suite.client.redirect_uri}/{random_alnum(10)}")
    url = suite.config["authorization_endpoint"]
    check_error_page(requests.get(url, params=params, allow_redirects=False, timeout=10), "ja")
    english = {"Accept-Language": "en"}
    check_error_page(requests.get(url, params=params, headers=english, allow_redirects=False, timeout=10), "en")


@module("oidcc-ensure-post-request-succeeds")
def post_request(suite: Suite) -> None:
    """OIDCCEnsurePostRequestSucceeds: the authorization request as a form POST
    (OIDC Core §3.1.2.1: GET and POST MUST be supported)."""
    suite.code_flow(method="POST", login=True)


# --- 32: client_secret_post ----------------------------------------------------------------------


@module("oidcc-server-client-secret-post")
def client_secret_post(suite: Suite) -> None:
    """OIDCCServerTestClientSecretPost: the suite's ``client_secret_post`` client,
    credentials in the token request body (OIDC Core §9)."""
    client = register_client(suite.live, "oidcc-secret-post", "client_secret_post")
    suite.check_auth_method_supported(client)
    flow = suite.code_flow(suite.request(client=client), client=client)
    assert flow.id_token["aud"] == client.client_id or client.client_id in flow.id_token["aud"]


# --- 34-36: request objects and claims -----------------------------------------------------------


def _unsigned_request_object(claims: dict[str, str]) -> str:
    """SerializeRequestObjectWithNullAlgorithm: a JWT with alg none (OIDC Core §6.1)."""

    def part(value: dict[str, str]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none'})}.{part(claims)}."


def _skip_unless_alg_none_allowed(suite: Suite) -> None:
    algs = suite.config.get("request_object_signing_alg_values_supported")
    if algs is not None and "none" not in algs:
        pytest.skip("request_object_signing_alg_values_supported does not contain none")


@module("oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported")
def unsigned_request_object(suite: Suite) -> None:
    """OIDCCUnsignedRequestObjectSupportedCorrectlyOrRejectedAsUnsupported: state
    and nonce only inside an unsigned request object. The provider does not support
    request objects (``request_parameter_supported: false``) and says so: it
    redirects ``request_not_supported`` (OIDC Core §6.1, §3.1.2.6), which the
    suite reports as SKIPPED. Ignoring the object and issuing a code would fail."""
    _skip_unless_alg_none_allowed(suite)
    assert suite.config.get("request_parameter_supported") is False
    inner = suite.request()
    params = {k: inner[k] for k in ("client_id", "redirect_uri", "response_type", "scope")}
    params["request"] = _unsigned_request_object(inner)
    error = check_error_redirect(suite.send(params), suite.client, suite.issuer, None)
    assert error["error"] == "request_not_supported"


@module("oidcc-claims-essential")
def claims_essential(suite: Suite) -> None:
    """OIDCCClaimsEssential: scope=openid and an essential ``name`` for userinfo in
    the ``claims`` parameter (OIDC Core §5.5) must not cause an error, and the ID
    token gets no name (EnsureIdTokenDoesNotContainName). The suite warns when
    userinfo lacks name; it must have it only where the provider advertises the
    claims parameter."""
    flow = suite.code_flow(suite.request(claims='{"userinfo":{"name":{"essential":true}}}'))
    suite.check_scope_claims(flow, set(), held=set())
    assert "name" not in flow.id_token
    if suite.config.get("claims_parameter_supported") and "name" in suite.config.get("claims_supported", []):
        assert flow.userinfo is not None and "name" in flow.userinfo


@module("oidcc-ensure-request-object-with-redirect-uri")
def request_object_with_redirect_uri(suite: Suite) -> None:
    """OIDCCEnsureRequestObjectWithRedirectUri: the request object carries the right
    redirect_uri, the query a wrong one (``…/callback_invalid``). A provider without
    request objects must judge the query's URI first and show an error page
    (ExpectRedirectUriErrorPage); sending ``request_not_supported`` to the registered
    URI is a FAILURE (EnsureOPDoesNotUseDefaultRedirectUriInCaseOfInvalidRedirectUri)."""
    _skip_unless_alg_none_allowed(suite)
    inner = suite.request()
    params = {k: inner[k] for k in ("client_id", "response_type", "scope")}
    params["redirect_uri"] = inner["redirect_uri"] + "_invalid"
    params["request"] = _unsigned_request_object(inner)
    check_error_page(suite.send(params), "ja")


# --- 37: refresh tokens --------------------------------------------------------------------------


def _refresh_flow(suite: Suite, client: Client, nonce: str, send_scope: bool) -> dict[str, str]:
    """One client's part of OIDCCRefreshToken; returns the last token response."""
    offline = suite.scopes_supported("offline_access")
    scope = "openid offline_access" if offline else "openid"
    # AddPromptConsentToAuthorizationEndpointRequestIfScopeContainsOfflineAccess (OIDC Core §11)
    extra = {"prompt": "consent"} if offline else {}
    flow = suite.code_flow(suite.request(scope, client=client, nonce=nonce, **extra), client=client)
    refresh_token = flow.token.get("refresh_token")
    # The suite skips without a refresh token, and warns if one is advertised anyway.
    assert refresh_token, "no refresh_token although grant_types_supported lists refresh_token"
    assert VSCHAR.match(refresh_token), "EnsureRefreshTokenContainsAllowedCharactersOnly"

    wait(1)
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    if send_scope:  # AddScopeToTokenEndpointRequest: the granted scope
        data["scope"] = flow.token.get("scope") or scope
    response = suite.token_request(data, client)
    # CheckTokenEndpointHttpStatus200, CheckTokenEndpointReturnedJsonContentType, CheckTokenEndpointCacheHeaders
    # (which checks the headers only if present; RFC 6749 §5.1 makes no-store a MUST)
    assert response.status_code == 200, (response.status_code, response.text)
    assert media_type(response) == "application/json"
    assert "no-store" in response.headers.get("Cache-Control", "")
    if "Pragma" in response.headers:
        assert "no-cache" in response.headers["Pragma"]
    body = response.json()
    assert "error" not in body
    assert body.get("access_token") and body.get("token_type", "").lower() == "bearer"  # CheckTokenTypeIsBearer
    ensure_minimum_entropy(body["access_token"])
    assert VSCHAR.match(body["access_token"])
    if "expires_in" in body:
        assert body["expires_in"] > 0
    assert body["access_token"] != flow.token["access_token"], "EnsureAccessTokenValuesAreDifferent"
    if "refresh_token" in body:  # EnsureMinimumRefreshTokenLength / Entropy
        ensure_minimum_length(body["refresh_token"])
        ensure_minimum_entropy(body["refresh_token"])
        assert body["refresh_token"] != refresh_token  # rotated (RFC 9700 §4.14.2), beyond the suite
    if "id_token" in body:
        # CompareIdTokenClaims (OIDC Core §12.2)
        _, renewed = suite.check_id_token(body["id_token"], client, None, body["access_token"], check_nonce=False)
        original = flow.id_token
        assert renewed["iss"] == original["iss"] and renewed["sub"] == original["sub"]
        assert renewed["iat"] != original["iat"]
        aud = renewed["aud"]
        assert (set(aud) if isinstance(aud, list) else {aud}) == (
            set(original["aud"]) if isinstance(original["aud"], list) else {original["aud"]}
        )
        if "auth_time" in original:
            assert renewed.get("auth_time") == original["auth_time"]
        assert renewed.get("azp") == original.get("azp")
    assert suite.userinfo(body["access_token"]).status_code == 200
    return body


@module("oidcc-refresh-token")
def refresh_token(suite: Suite) -> None:
    """OIDCCRefreshToken: both static clients refresh (the first sending the granted
    scope, the second none; the second's nonce is 43 characters with ``-._~``), and
    a refresh token of the second client is refused to the first: 400
    invalid_grant (RFC 6749 §6, the refresh token is bound to its client)."""
    # With discovery the suite needs scopes_supported as an array, or fails at setup.
    assert isinstance(suite.config.get("scopes_supported"), list)
    assert "refresh_token" in suite.config.get("grant_types_supported", [])
    _refresh_flow(suite, suite.client, random_alnum(10), send_scope=True)
    client2 = register_client(suite.live, "oidcc-client2")
    second = _refresh_flow(suite, client2, random_alnum(39) + "-._~", send_scope=False)
    stolen = suite.token_request({"grant_type": "refresh_token", "refresh_token": second["refresh_token"]})
    check_token_error(stolen)


# --- 38: PKCE ------------------------------------------------------------------------------------


@module("oidcc-ensure-request-with-valid-pkce-succeeds")
def valid_pkce(suite: Suite) -> None:
    """OIDCCEnsureRequestWithValidPkceSucceeds: S256 PKCE (RFC 7636) with a
    confidential client succeeds."""
    verifier = random_alnum(43) + "-._~"
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    params = suite.request(code_challenge=challenge, code_challenge_method="S256")
    response, _ = suite.authorize(params)
    callback = suite.check_callback(response, params, suite.client)
    token = suite.check_token_response(suite.redeem(callback["code"], code_verifier=verifier))
    suite.check_id_token(token["id_token"], suite.client, params["nonce"], token["access_token"], callback["code"])
    assert suite.userinfo(token["access_token"]).status_code == 200


@pytest.mark.parametrize("name", list(MODULES))
def test_module(name: str, suite: Suite) -> None:
    MODULES[name](suite)
