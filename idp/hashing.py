"""Random tokens and their stored digests.

Machine-generated secrets (client secrets, codes, refresh tokens, cookies,
links) carry 256 bits of entropy, so one SHA-256 digest protects them at rest:
a slow hash is for human passwords and would cap the token endpoint at a few
dozen grants per second.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def matches(token: str, stored_digest: str | None) -> bool:
    """Constant-time check of ``token`` against a stored digest."""
    if not stored_digest:
        # Compare anyway so that a missing secret costs the same time.
        hmac.compare_digest(digest(token), "0" * 64)
        return False
    return hmac.compare_digest(digest(token), stored_digest)


def keyed_digest(key: str, value: str) -> str:
    """HMAC-SHA256 for low-entropy secrets (6-digit SMS codes): a stolen table
    cannot be reversed by trying all million codes without the key."""
    return hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()
