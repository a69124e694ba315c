"""This provider's own key and certificate as a SAML service provider: it signs
each AuthnRequest with them, and the SP metadata publishes the certificate,
which the AD administrator's relying party trust then holds.

Generated once into the keys folder (``saml-sp.pem``: the private key, then a
self-signed certificate; 0600, encrypted with ``keys.passphrase`` when set),
so every worker and every node sharing the folder signs alike, and the
certificate survives restarts and signing-key rotations (which never touch it).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from .. import clock, private_files
from ..config import Settings

FILE = "saml-sp.pem"
# ADFS checks the signature, not the dates; a long life spares the AD
# administrator a certificate change in the relying party trust.
LIFETIME = timedelta(days=20 * 365)

_lock = threading.Lock()
_cache: dict[Path, SpKey] = {}


@dataclass(frozen=True)
class SpKey:
    key_pem: str  # unencrypted PKCS#8, for python3-saml (kept in memory only)
    cert_pem: str

    @property
    def cert_base64(self) -> str:
        """The certificate as SAML metadata and python3-saml want it: base64 DER, one line."""
        lines = self.cert_pem.strip().splitlines()
        return "".join(line for line in lines if not line.startswith("-----"))


def _new(issuer: str, passphrase: str) -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, urlsplit(issuer).hostname or "idp")])
    now = clock.now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + LIFETIME)
        .sign(key, hashes.SHA256())
    )
    encryption = (
        serialization.BestAvailableEncryption(passphrase.encode()) if passphrase else serialization.NoEncryption()
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    return key_pem + cert.public_bytes(serialization.Encoding.PEM)


def sp_key(settings: Settings) -> SpKey:
    path = settings.keys_dir / FILE
    with _lock:
        if path in _cache:
            return _cache[path]
        # Not named .tmp-*: key rotation removes those. One file wins across workers.
        private_files.write_once(path, lambda: _new(settings.issuer, settings.keys_passphrase).decode())
        data = path.read_bytes()
        password = settings.keys_passphrase.encode() if settings.keys_passphrase else None
        key = serialization.load_pem_private_key(data, password)
        cert = x509.load_pem_x509_certificate(data[data.index(b"-----BEGIN CERTIFICATE-----") :])
        found = SpKey(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ).decode(),
            cert.public_bytes(serialization.Encoding.PEM).decode(),
        )
        _cache[path] = found
        return found
