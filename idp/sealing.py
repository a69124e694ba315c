"""Secrets that must be read back (TOTP secrets, a recovery code waiting to be
shown) are sealed with Fernet under a key derived from the secret key and
the purpose, so one purpose's ciphertext is useless for another."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app


def _fernet(purpose: str) -> Fernet:
    secret_key = current_app.extensions["idp.settings"].secret_key
    key = hashlib.sha256(f"idp sealing|{purpose}|".encode() + secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal(purpose: str, value: str) -> str:
    return _fernet(purpose).encrypt(value.encode()).decode()


def unseal(purpose: str, sealed: str | None, max_age: int | None = None) -> str | None:
    if not sealed:
        return None
    try:
        return _fernet(purpose).decrypt(sealed.encode(), ttl=max_age).decode()
    except (InvalidToken, ValueError):
        return None
