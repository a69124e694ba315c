"""The OpenID Foundation's Config OP certification plan (``oidcc-config-certification-test-plan``):
its one module, ``oidcc-discovery-endpoint-verification``, against a provider
whose issuer is an https URL, as deployed behind a TLS-terminating proxy (the
suite requires https for the issuer and every endpoint). Requests for the public
URLs go to the loopback server.

The suite only logs (INFO) whether ``request_parameter_supported``,
``request_uri_parameter_supported`` and ``claims_parameter_supported`` are true;
the last block of the test asserts what CONTRACT.md ("HTTP") promises instead.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from babel import Locale, UnknownLocaleError

from ..conftest import Live
from .conftest import PUBLIC_ISSUER
from .suite import check_server_jwks, media_type

WELL_KNOWN = "/.well-known/openid-configuration"
RESPONSE_TYPES = {"code", "code id_token", "id_token", "id_token token", "code id_token token", "code token"}
SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+$")  # RFC 6749 §3.3
# RFC 5646 §2.1 langtag (without grandfathered tags): language, script, region, variants, extensions.
LANGTAG = re.compile(
    r"^(?P<language>[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4,8})"
    r"(?:-(?P<script>[a-z]{4}))?"
    r"(?:-(?P<region>[a-z]{2}|[0-9]{3}))?"
    r"(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*"
    r"(?:-[0-9a-wyz](?:-[a-z0-9]{2,8})+)*"
    r"(?:-x(?:-[a-z0-9]{1,8})+)?$",
    re.IGNORECASE,
)


def fetch(live: Live, url: str) -> requests.Response:
    """GET a public URL of the provider from its loopback server."""
    assert url.startswith(PUBLIC_ISSUER + "/"), f"{url} is not on the issuer's host"
    return requests.get(live.url + url[len(PUBLIC_ISSUER) :], timeout=10)


def is_https_url(value: Any) -> bool:
    """ValidateJsonUri / AbstractJsonUriIsValidAndHttps."""
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme == "https" and bool(parts.hostname)


def check_issuer_url(issuer: str) -> None:
    """CheckDiscEndpointIssuerIsValidUrl (RFC 8414 §2): https, a host, no query,
    fragment or user info, and a valid port."""
    parts = urlsplit(issuer)
    assert parts.scheme == "https" and parts.hostname
    assert not parts.query and not parts.fragment and "?" not in issuer and "#" not in issuer
    assert parts.username is None and parts.password is None
    assert parts.port is None or 0 < parts.port < 65536


def check_locales(tags: Any) -> None:
    """CheckDiscEndpointLocalesSyntax (BCP 47 tags whose language CLDR knows, standing
    in for the IANA registry) and CheckDiscEndpointLocalesCanonicalCasing."""
    assert isinstance(tags, list)
    for tag in tags:
        match = LANGTAG.match(tag)
        assert match, f"{tag!r} is not a BCP 47 language tag"
        try:
            Locale.parse(match["language"])
        except (UnknownLocaleError, ValueError) as error:
            raise AssertionError(f"{tag!r}: unregistered language") from error
        assert match["language"] == match["language"].lower(), f"{tag!r}: language not lower case"
        assert match["script"] is None or match["script"] == match["script"].title(), f"{tag!r}: script casing"
        assert match["region"] is None or match["region"] == match["region"].upper(), f"{tag!r}: region casing"


def discovery_endpoint_verification(public_live: Live) -> None:
    """OIDCCDiscoveryEndpointVerification, its checks in the suite's order."""
    discovery_url = PUBLIC_ISSUER + WELL_KNOWN
    response = fetch(public_live, discovery_url)
    config = response.json()
    assert isinstance(config, dict)  # GetDynamicServerConfiguration
    assert response.status_code == 200  # EnsureDiscoveryEndpointResponseStatusCodeIs200
    assert media_type(response) == "application/json"  # CheckDiscoveryEndpointReturnedJsonContentType

    # OIDCCCheckDiscEndpointResponseTypesSupported: some OIDC response type (order within a value is free)
    offered = {" ".join(sorted(value.split())) for value in config["response_types_supported"]}
    assert offered & {" ".join(sorted(value.split())) for value in RESPONSE_TYPES}

    # CheckDiscEndpointDiscoveryUrl, CheckDiscEndpointIssuer, CheckDiscEndpointIssuerIsValidUrl
    assert discovery_url.startswith("https://") and discovery_url.endswith(WELL_KNOWN)
    assert config["issuer"].rstrip("/") == discovery_url[: -len(WELL_KNOWN)].rstrip("/")
    check_issuer_url(config["issuer"])

    # CheckDiscEndpointSubjectTypesSupported, OIDCCCheckDiscEndpointIdTokenSigningAlgValuesSupported
    assert {"public", "pairwise"} & set(config["subject_types_supported"])
    assert "RS256" in config["id_token_signing_alg_values_supported"]
    if "userinfo_signing_alg_values_supported" in config:
        assert isinstance(config["userinfo_signing_alg_values_supported"], list)

    # The endpoints; userinfo absent would be a WARNING, registration absent is fine.
    assert is_https_url(config["authorization_endpoint"])
    assert is_https_url(config["token_endpoint"])
    assert is_https_url(config.get("userinfo_endpoint"))
    if "registration_endpoint" in config:
        assert is_https_url(config["registration_endpoint"])

    # CheckJwksUri, FetchServerKeys, ValidateServerJWKs, no private or symmetric keys
    assert is_https_url(config.get("jwks_uri"))
    jwks_response = fetch(public_live, config["jwks_uri"])
    assert jwks_response.status_code == 200
    jwks = jwks_response.json()
    check_server_jwks(jwks)

    # request_object_signing_alg_values_supported must include RS256 if present (WARNING)
    if "request_object_signing_alg_values_supported" in config:
        assert "RS256" in config["request_object_signing_alg_values_supported"]
    # OIDCCCheckDiscEndpointClaimsSupported (WARNING)
    assert isinstance(config.get("claims_supported"), list)
    # OIDCCCheckDiscEndpointGrantTypesSupported: absent is fine, present is a non-empty array
    if "grant_types_supported" in config:
        assert isinstance(config["grant_types_supported"], list) and config["grant_types_supported"]
    # CheckDiscEndpointScopesSupportedContainsOpenId (absent: WARNING), CheckDiscEndpointScopesSupportedSyntax
    assert "openid" in config.get("scopes_supported", [])
    assert all(isinstance(s, str) and SCOPE_TOKEN.match(s) for s in config["scopes_supported"])
    # CheckDiscEndpointLocalesSyntax, CheckDiscEndpointLocalesCanonicalCasing
    for name in ("ui_locales_supported", "claims_locales_supported"):
        if name in config:
            check_locales(config[name])
    # CheckDiscEndpointAllEndpointsAreHttps
    endpoints = {k: v for k, v in config.items() if k.endswith("_endpoint")}
    assert {k for k, v in endpoints.items() if not is_https_url(v)} == set()
    # EnsureServerConfigurationCodeChallengeMethodsSupportedIsAnArray
    if config.get("code_challenge_methods_supported"):
        assert {"S256", "plain"} & set(config["code_challenge_methods_supported"])

    # What CONTRACT.md ("HTTP") promises relying parties beyond the suite.
    for name in ("revocation_endpoint", "introspection_endpoint", "end_session_endpoint"):
        assert name in endpoints
    assert config["response_types_supported"] == ["code"]
    assert {"authorization_code", "refresh_token", "client_credentials"} <= set(config["grant_types_supported"])
    assert config["code_challenge_methods_supported"] == ["S256"]
    assert {"client_secret_basic", "client_secret_post", "private_key_jwt", "none"} <= set(
        config["token_endpoint_auth_methods_supported"]
    )
    assert {"RS256", "ES256"} <= set(config["id_token_signing_alg_values_supported"])
    assert config["authorization_response_iss_parameter_supported"] is True
    assert {"sub", "email", "email_verified", "name", "tenant_id", "roles", "auth_time", "amr", "line_id"} <= set(
        config["claims_supported"]
    )
    # No dynamic registration, request objects or request_uri: say so rather than
    # leave the Discovery §3 defaults (request_uri_parameter_supported defaults to true).
    assert "registration_endpoint" not in config
    assert config["request_parameter_supported"] is False
    assert config["request_uri_parameter_supported"] is False
    assert "request_object_signing_alg_values_supported" not in config
    # Every published key signs tokens with an advertised algorithm.
    for key in jwks["keys"]:
        assert key.get("use", "sig") == "sig"
        assert key.get("alg") in config["id_token_signing_alg_values_supported"]


MODULES = {"oidcc-discovery-endpoint-verification": discovery_endpoint_verification}


@pytest.mark.parametrize("name", list(MODULES))
def test_module(name: str, public_live: Live) -> None:
    MODULES[name](public_live)
