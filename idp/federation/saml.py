"""ADFS over SAML 2.0: this provider as a tenant's service provider, through
python3-saml (onelogin.saml2).

- ``read_metadata``/``fetch_metadata``: the ADFS federation metadata a holder
  gives (file or URL), checked before it is kept: XML, an IdP descriptor, a
  single sign-on address, a signing certificate.
- ``sp_metadata``: what the AD administrator registers as the relying party
  trust. The entity id is the metadata address, one per connection.
- ``authn_request``: SP-initiated SSO, HTTP-Redirect binding, the request
  signed with rsa-sha256.
- ``verify``: the answer at the ACS (HTTP-POST binding). python3-saml in strict
  mode with ``wantAssertionsSigned`` and ``rejectDeprecatedAlgorithm`` checks the
  schema, one assertion, the signatures by the metadata's certificate, the
  issuer, the subject confirmation and the times. What it leaves to us
  (SAML Core §3.2.2, Profiles §4.1.4.3): an unsolicited answer (no
  InResponseTo) is refused; Destination and Audience must be exactly this
  connection's ACS and entity id, built from configuration, never from the
  request's Host header; NotOnOrAfter is read on our clock with
  ``ad.saml_skew``. The caller then matches InResponseTo with the request
  this browser sent and uses the assertion id once (``assertions``).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from cryptography import x509
from flask import current_app

from .. import clock
from ..config import Settings
from ..models import Directory
from .broker import BrokerError, Failure
from .sp_keys import sp_key

# python3-saml (with lxml and xmlsec) is imported where it is used: a worker
# that never serves an AD sign-in does not carry it (about 11 MB resident).
if TYPE_CHECKING:
    from onelogin.saml2.response import OneLogin_Saml2_Response
    from onelogin.saml2.settings import OneLogin_Saml2_Settings

NAME_CLAIM = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"
EMAIL_CLAIM = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"
SUBJECT_MAX = 255


class MetadataError(ValueError):
    """Metadata that cannot be used; ``reason`` names why (the page's message)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"unusable ADFS metadata: {reason}{': ' + detail if detail else ''}")
        self.reason = reason


@dataclass(frozen=True)
class IdpMetadata:
    xml: str
    entity_id: str
    sso_url: str
    certs: list[str]


@dataclass(frozen=True)
class Assertion:
    """What a verified answer says."""

    issuer: str
    assertion_id: str
    in_response_to: str
    upn: str
    name: str | None
    email: str | None
    not_on_or_after: datetime


def _settings() -> Settings:
    return current_app.extensions["idp.settings"]


# -- the IdP's metadata -----------------------------------------------------------------


def read_metadata(data: bytes) -> IdpMetadata:
    """Check ADFS federation metadata; MetadataError says what is wrong."""
    if len(data) > _settings().ad_metadata_max_bytes:
        raise MetadataError("too_big")
    from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser

    try:
        text = data.decode("utf-8-sig")
        parsed = OneLogin_Saml2_IdPMetadataParser.parse(text)
    except Exception as err:  # python3-saml raises a bare Exception for a DTD, lxml its own
        raise MetadataError("not_xml", type(err).__name__) from None
    idp = parsed.get("idp") or {}
    if not idp.get("entityId"):
        raise MetadataError("no_idp")
    sso = (idp.get("singleSignOnService") or {}).get("url")
    if not sso or urlsplit(sso).scheme not in ("http", "https"):
        raise MetadataError("no_sso")
    certs = [idp["x509cert"]] if idp.get("x509cert") else (idp.get("x509certMulti") or {}).get("signing", [])
    if not certs:
        raise MetadataError("no_cert")
    for cert in certs:
        try:
            x509.load_der_x509_certificate(base64.b64decode(cert, validate=True))
        except (ValueError, binascii.Error):
            raise MetadataError("no_cert", "a certificate does not parse") from None
    return IdpMetadata(text, idp["entityId"], sso, certs)


def fetch_metadata(url: str) -> bytes:
    """The metadata at ``url`` (http or https only), within ``ad.metadata_timeout``
    seconds and ``ad.metadata_max_bytes``."""
    settings = _settings()
    if urlsplit(url).scheme not in ("http", "https") or len(url) > 1000:
        raise MetadataError("bad_url")
    try:
        with requests.get(url, timeout=settings.ad_metadata_timeout, stream=True) as response:
            if response.status_code != 200:
                raise MetadataError("unreachable", f"HTTP {response.status_code}")
            body = b""
            for chunk in response.iter_content(64 * 1024):
                body += chunk
                if len(body) > settings.ad_metadata_max_bytes:
                    raise MetadataError("too_big")
            return body
    except requests.RequestException as err:
        raise MetadataError("unreachable", type(err).__name__) from None


# -- this provider as the service provider ----------------------------------------------


def entity_id(directory: Directory) -> str:
    return f"{_settings().issuer}/saml/{directory.connection_id}/metadata"


def acs_url(directory: Directory) -> str:
    return f"{_settings().issuer}/saml/{directory.connection_id}/acs"


def _request_data(directory: Directory, post: dict[str, str] | None = None) -> dict[str, Any]:
    """What python3-saml takes for "this request": the ACS as configured, so that
    its own URL checks never follow a Host header."""
    parts = urlsplit(acs_url(directory))
    return {
        "https": "on" if parts.scheme == "https" else "off",
        "http_host": parts.netloc,
        "script_name": parts.path,
        "get_data": {},
        "post_data": post or {},
    }


def _onelogin_settings(directory: Directory, with_idp: bool = True) -> OneLogin_Saml2_Settings:
    from onelogin.saml2.constants import OneLogin_Saml2_Constants as C
    from onelogin.saml2.settings import OneLogin_Saml2_Settings

    key = sp_key(_settings())
    values: dict[str, Any] = {
        "strict": True,
        "debug": False,
        "sp": {
            "entityId": entity_id(directory),
            "assertionConsumerService": {"url": acs_url(directory), "binding": C.BINDING_HTTP_POST},
            "NameIDFormat": C.NAMEID_UNSPECIFIED,
            "x509cert": key.cert_base64,
            "privateKey": key.key_pem,
        },
        "security": {
            "authnRequestsSigned": True,
            "wantAssertionsSigned": True,
            "wantMessagesSigned": False,  # ADFS signs the assertion by default, not the response
            "wantNameId": False,  # the UPN comes as an attribute (claim)
            "wantAttributeStatement": True,
            "signatureAlgorithm": C.RSA_SHA256,
            "digestAlgorithm": C.SHA256,
            "rejectDeprecatedAlgorithm": True,
            "requestedAuthnContext": False,  # ADFS decides: Windows integrated or forms
        },
    }
    if with_idp:
        idp = read_metadata((directory.saml_metadata or "").encode()) if directory.saml_metadata else None
        if idp is None:
            raise BrokerError(Failure.UNAVAILABLE, "the connection has no ADFS metadata")
        values["idp"] = {
            "entityId": idp.entity_id,
            "singleSignOnService": {"url": idp.sso_url, "binding": C.BINDING_HTTP_REDIRECT},
            "x509certMulti": {"signing": idp.certs},
        }
    return OneLogin_Saml2_Settings(values, sp_validation_only=not with_idp)


def sp_metadata(directory: Directory) -> str:
    """The SP metadata: entity id, the ACS (HTTP-POST), the signing certificate,
    AuthnRequestsSigned and WantAssertionsSigned."""
    return _onelogin_settings(directory, with_idp=False).get_sp_metadata().decode()


def authn_request(directory: Directory, force: bool) -> tuple[str, str]:
    """The IdP's address carrying a signed AuthnRequest, and the request's ID.
    ``force``: ForceAuthn, the person signs in again at ADFS (re-authentication,
    a login-method change, a relying party's prompt=login)."""
    from onelogin.saml2.auth import OneLogin_Saml2_Auth

    auth = OneLogin_Saml2_Auth(_request_data(directory), _onelogin_settings(directory))
    url = auth.login(return_to=directory.connection_id, force_authn=force, set_nameid_policy=False)
    return url, auth.get_last_request_id()


# -- the answer --------------------------------------------------------------------------


def _failure(reason: str) -> BrokerError:
    return BrokerError(Failure.ASSERTION, reason[:200])


def verify(directory: Directory, saml_response: str | None) -> Assertion:
    """The answer posted to the ACS, verified; BrokerError otherwise."""
    if not saml_response or len(saml_response) > 256 * 1024:
        raise _failure("no SAMLResponse")
    from onelogin.saml2.response import OneLogin_Saml2_Response

    settings = _onelogin_settings(directory)
    try:
        response = OneLogin_Saml2_Response(settings, saml_response)
        in_response_to = response.get_in_response_to()
    except Exception as err:  # python3-saml raises bare Exception on unreadable input
        raise _failure(f"unreadable: {type(err).__name__}") from None
    if not in_response_to:
        raise BrokerError(Failure.STATE, "unsolicited: no InResponseTo")
    try:
        # The browser's own request is matched by the caller; here the answer must
        # at least be one to a request (python3-saml skips the check without it).
        response.is_valid(_request_data(directory, {"SAMLResponse": saml_response}), in_response_to, True)
    except Exception as err:  # python3-saml's validation error, or lxml's, or xmlsec's
        raise _failure(str(err)) from None
    return _checked(directory, response, in_response_to)


def _checked(directory: Directory, response: OneLogin_Saml2_Response, in_response_to: str) -> Assertion:
    """What python3-saml leaves to us, in configuration's terms."""
    document = response.get_xml_document()
    if document.get("Destination") != acs_url(directory):
        raise _failure(f"Destination {document.get('Destination')!r}")
    audiences = response.get_audiences()
    if not audiences or entity_id(directory) not in audiences:
        raise _failure(f"Audience {audiences!r}")
    expires = response.get_assertion_not_on_or_after()
    skew = timedelta(seconds=_settings().saml_skew)
    if expires is None:
        raise _failure("no NotOnOrAfter")
    not_on_or_after = datetime.fromtimestamp(expires, UTC)
    if clock.now() >= not_on_or_after + skew:
        raise _failure("expired")
    attributes = response.get_attributes()
    upn = _first(attributes, directory.upn_attribute)
    if not upn or len(upn) > SUBJECT_MAX:
        raise _failure(f"no {directory.upn_attribute} attribute")
    issuers = response.get_issuers()
    return Assertion(
        issuer=issuers[0],
        assertion_id=response.get_assertion_id(),
        in_response_to=in_response_to,
        upn=upn.strip().lower(),
        name=_first(attributes, NAME_CLAIM),
        email=_first(attributes, EMAIL_CLAIM),
        not_on_or_after=not_on_or_after,
    )


def _first(attributes: dict[str, list[str]], name: str) -> str | None:
    values = attributes.get(name) or []
    return values[0] if values and isinstance(values[0], str) and values[0].strip() else None
