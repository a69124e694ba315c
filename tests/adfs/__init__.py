"""ADFS's stand-in: a SAML 2.0 identity provider on pysaml2, on a loopback port.

Like ADFS it publishes federation metadata, takes SP-initiated AuthnRequests
over HTTP-Redirect (refusing unsigned ones: ``want_authn_requests_signed``),
asks for the AD account on its own login form, and posts back a Response
whose Assertion it signs with rsa-sha256, carrying the UPN claim. Its key
and certificate are made at start with ``cryptography``.

Tests that need a bad answer build it from a good one (``answer``) with
pysaml2's own knobs (no signature, SHA-1, another audience or destination,
no InResponseTo) or with lxml (a second, unsigned assertion); a wrong
certificate comes from a second IdP of the same entity id (``rogue``).
"""

from __future__ import annotations

import base64
import copy
import html
import secrets
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from saml2 import BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.mdstore import MetadataStore
from saml2.metadata import entity_descriptor
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_UNSPECIFIED, NameID
from saml2.server import Server
from saml2.xmldsig import DIGEST_SHA1, DIGEST_SHA256, SIG_RSA_SHA1, SIG_RSA_SHA256
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

UPN = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"
NAME = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"
EMAIL = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"
PASSWORD_PROTECTED = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
XMLSEC = "/usr/bin/xmlsec1"
NS = {"saml": "urn:oasis:names:tc:SAML:2.0:assertion", "samlp": "urn:oasis:names:tc:SAML:2.0:protocol"}


def _key_pair(folder: Path, name: str) -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"ADFS Signing - {name}")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    key_file, cert_file = folder / f"{name}.key", folder / f"{name}.crt"
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(key_file), str(cert_file)


def _server(entity_id: str, sso_url: str, key_file: str, cert_file: str) -> Server:
    config = IdPConfig()
    config.load(
        {
            "entityid": entity_id,
            "xmlsec_binary": XMLSEC,
            "key_file": key_file,
            "cert_file": cert_file,
            "signing_algorithm": SIG_RSA_SHA256,
            "digest_algorithm": DIGEST_SHA256,
            "service": {
                "idp": {
                    "endpoints": {"single_sign_on_service": [(sso_url, BINDING_HTTP_REDIRECT)]},
                    "name_id_format": [NAMEID_FORMAT_UNSPECIFIED],
                    "want_authn_requests_signed": True,
                    "sign_assertion": True,
                    "sign_response": False,
                    "policy": {
                        "default": {
                            "lifetime": {"minutes": 60},
                            "attribute_restrictions": None,
                            "name_form": NAME_FORMAT_URI,
                        }
                    },
                }
            },
        }
    )
    # Relying parties are added as they register (``trust``), into one store the
    # server and its signature checks share.
    config.metadata = MetadataStore(config.attribute_converters, config)
    server = Server(config=config)
    server.metadata = server.sec.metadata = config.metadata
    return server


@dataclass(frozen=True)
class Request_:
    """An AuthnRequest as the IdP received it (its signature checked by pysaml2)."""

    id: str
    sp_entity_id: str
    acs_url: str
    force_authn: bool
    sig_alg: str


@dataclass(frozen=True)
class Answer:
    acs_url: str
    saml_response: str  # base64, as posted

    @property
    def xml(self) -> bytes:
        return base64.b64decode(self.saml_response)

    def with_xml(self, xml: bytes) -> Answer:
        return Answer(self.acs_url, base64.b64encode(xml).decode())


class Adfs:
    def __init__(self, folder: Path) -> None:
        self._http = make_server("127.0.0.1", 0, self._wsgi, threaded=True)
        self.base_url = f"http://127.0.0.1:{self._http.server_port}"
        self.entity_id = f"{self.base_url}/adfs/services/trust"
        self.sso_url = f"{self.base_url}/adfs/ls/"
        self.metadata_url = f"{self.base_url}/FederationMetadata/2007-06/FederationMetadata.xml"
        self.server = _server(self.entity_id, self.sso_url, *_key_pair(folder, "adfs"))
        # Same name, another key: what an impostor could sign with.
        self.rogue = _server(self.entity_id, self.sso_url, *_key_pair(folder, "rogue"))
        # UPN -> (password, display name)
        self.accounts: dict[str, tuple[str, str]] = {}
        self.requests: list[Request_] = []
        self._waiting: dict[str, Request_] = {}
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def start(self) -> Adfs:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._http.shutdown()
        self._thread.join(5)

    # -- what the holder and the AD administrator do ---------------------------------

    def metadata(self) -> str:
        return str(entity_descriptor(self.server.config))

    def add_account(self, upn: str, password: str | None = None, name: str = "") -> str:
        password = password or "Ad-" + secrets.token_urlsafe(9)
        self.accounts[upn.lower()] = (password, name or upn.split("@")[0])
        return password

    def trust(self, sp_metadata: str) -> None:
        """The relying party trust: the SP's metadata (its ACS and signing certificate)."""
        for server in (self.server, self.rogue):
            server.metadata.load("inline", sp_metadata)

    # -- the protocol ----------------------------------------------------------------

    def receive(self, url: str) -> Request_:
        """The AuthnRequest at ``url`` (HTTP-Redirect), its signature verified."""
        query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        parsed = self.server.parse_authn_request(
            query["SAMLRequest"],
            BINDING_HTTP_REDIRECT,
            relay_state=query.get("RelayState"),
            sigalg=query.get("SigAlg"),
            signature=query.get("Signature"),
        )
        message = parsed.message
        request = Request_(
            id=message.id,
            sp_entity_id=message.issuer.text,
            acs_url=message.assertion_consumer_service_url,
            force_authn=message.force_authn == "true",
            sig_alg=query.get("SigAlg", ""),
        )
        self.requests.append(request)
        return request

    def answer(
        self,
        request: Request_ | None,
        upn: str,
        *,
        in_response_to: str | None = "",
        audience: str | None = None,
        destination: str | None = None,
        sign: bool = True,
        sha1: bool = False,
        rogue: bool = False,
        acs_url: str | None = None,
        sp_entity_id: str | None = None,
    ) -> Answer:
        """A Response to ``request`` for the account ``upn``; the keyword arguments
        spoil it in one way each."""
        sp = sp_entity_id or (request.sp_entity_id if request else "")
        acs = acs_url or (request.acs_url if request else "")
        name = self.accounts.get(upn.lower(), ("", upn))[1]
        identity = {UPN: [upn], NAME: [name], EMAIL: [upn]}
        server = self.rogue if rogue else self.server
        response = server.create_authn_response(
            identity,
            in_response_to=(request.id if request else None) if in_response_to == "" else in_response_to,
            destination=destination or acs,
            sp_entity_id=audience or sp,
            name_id=NameID(format=NAMEID_FORMAT_UNSPECIFIED, text=upn),
            authn={"class_ref": PASSWORD_PROTECTED},
            sign_assertion=sign,
            sign_response=False,
            sign_alg=SIG_RSA_SHA1 if sha1 else SIG_RSA_SHA256,
            digest_alg=DIGEST_SHA1 if sha1 else DIGEST_SHA256,
        )
        return Answer(acs, base64.b64encode(str(response).encode()).decode())

    @staticmethod
    def wrapped(good: Answer, victim_upn: str) -> Answer:
        """Signature wrapping: the signed assertion kept, a copy naming ``victim_upn``
        (unsigned, a new ID) put first in the Response."""
        root = etree.fromstring(good.xml)
        signed = root.find("saml:Assertion", NS)
        forged = copy.deepcopy(signed)
        for signature in forged.findall("{http://www.w3.org/2000/09/xmldsig#}Signature"):
            forged.remove(signature)
        forged.set("ID", "_" + secrets.token_hex(16))
        for value in forged.iterfind(".//saml:Attribute/saml:AttributeValue", NS):
            value.text = victim_upn
        signed.addprevious(forged)
        return good.with_xml(etree.tostring(root))

    # -- the browser's side: the login form and the auto-posted answer ------------------

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if request.path == urlsplit(self.metadata_url).path:
            response = Response(self.metadata(), mimetype="application/samlmetadata+xml")
        elif request.path == "/adfs/ls/" and request.method == "GET":
            response = self._login_form(request)
        elif request.path == "/adfs/ls/" and request.method == "POST":
            response = self._signed_in(request)
        else:
            response = Response("not found", status=404)
        response.headers["Connection"] = "close"
        return response(environ, start_response)

    def _login_form(self, request: Request) -> Response:
        try:
            received = self.receive(request.url)
        except Exception as err:  # noqa: BLE001 - any refusal is a page, as at ADFS
            return Response(f"AuthnRequest refused: {html.escape(str(err))}", status=400)
        ticket = secrets.token_urlsafe(12)
        with self._lock:
            self._waiting[ticket] = received
        page = f"""<!doctype html><html><head><title>ADFS sign in</title></head><body>
<h1>Sign in</h1><form method="post" action="/adfs/ls/">
<input type="hidden" name="ticket" value="{ticket}">
<label for="UserName">User name</label><input id="UserName" name="UserName">
<label for="Password">Password</label><input id="Password" name="Password" type="password">
<button type="submit" id="submitButton">Sign in</button></form></body></html>"""
        return Response(page, mimetype="text/html")

    def _signed_in(self, request: Request) -> Response:
        with self._lock:
            received = self._waiting.pop(request.form.get("ticket", ""), None)
        upn = request.form.get("UserName", "").lower()
        account = self.accounts.get(upn)
        password = request.form.get("Password", "")
        if received is None or account is None or not secrets.compare_digest(account[0], password):
            return Response("Incorrect user ID or password.", status=401)
        answer = self.answer(received, upn)
        # The HTTP-POST binding: a form the browser posts to the ACS (a script does it for a person).
        page = f"""<!doctype html><html><head><title>Working...</title></head>
<body onload="document.forms[0].submit()"><form method="post" action="{html.escape(answer.acs_url)}">
<input type="hidden" name="SAMLResponse" value="{answer.saml_response}">
<noscript><button type="submit">Continue</button></noscript></form></body></html>"""
        return Response(page, mimetype="text/html")


@pytest.fixture(scope="session")
def adfs() -> Iterator[Adfs]:
    with tempfile.TemporaryDirectory() as folder:
        server = Adfs(Path(folder)).start()
        yield server
        server.stop()


__all__ = ["Adfs", "Answer", "adfs"]
