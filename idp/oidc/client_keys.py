"""The public keys a private_key_jwt client signs its assertions with (RFC 7523
§3, OIDC Core §9): a JWK set registered with the client (``--jwks FILE``), or
one fetched from the client's ``jwks_uri`` and cached.

A fetched set is kept for an hour, and fetched again when an assertion names
a ``kid`` it does not hold (the client rotated its key), at most once a
minute per URI: an assertion is read before it is verified, so anyone who
knows a client id could otherwise make the provider fetch on every request.
When a fetch fails, the keys fetched before still serve.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from typing import Any

import requests
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from .. import clock

TIMEOUT = (3, 5)  # connect, read (seconds)
MAX_BYTES = 64 * 1024
KEEP_SECONDS = 3600.0
REFETCH_AFTER = 60.0
# RFC 7517 §6.2.2, §6.3.2, §6.4.1 (and OKP's "d"): members only a private key has.
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
SIGNING_TYPES = frozenset({"RSA", "EC", "OKP"})

log = logging.getLogger(__name__)


class KeysUnavailable(Exception):
    """The client's keys could not be had: no registered set, and none fetched."""


def public_key_set(data: Any) -> dict[str, Any]:
    """``data`` as a JWK set of public signing keys; ValueError says what is wrong.

    A private key is refused rather than stripped: whoever sent it has exposed
    it and must make a new one."""
    keys = data.get("keys") if isinstance(data, dict) else None
    if not isinstance(keys, list) or not keys or not all(isinstance(k, dict) for k in keys):
        raise ValueError('must be a JWK set: {"keys": [...]} with at least one key')
    for key in keys:
        if PRIVATE_MEMBERS & key.keys():
            raise ValueError("holds a private key; register only the public keys")
        if key.get("kty") not in SIGNING_TYPES:
            raise ValueError(f"key type {key.get('kty')!r} cannot sign an assertion (RSA, EC or OKP)")
    try:
        return KeySet.import_key_set(data).as_dict(private=False)
    except (JoseError, ValueError, TypeError, KeyError) as err:
        raise ValueError(f"is not a valid JWK set ({type(err).__name__})") from None


@dataclass
class _Fetched:
    at: float
    keys: KeySet

    def holds(self, kid: str | None) -> bool:
        return kid is None or any(k.kid == kid for k in self.keys.keys)


_lock = threading.Lock()
_fetched: dict[str, _Fetched] = {}


def _download(uri: str) -> KeySet:
    """The set at ``uri``: no redirect, a bounded body, public keys only."""
    with requests.get(uri, timeout=TIMEOUT, stream=True, allow_redirects=False) as response:
        if response.status_code != 200:
            raise ValueError(f"status {response.status_code}")
        body = b""
        for chunk in response.iter_content(8192):
            body += chunk
            if len(body) > MAX_BYTES:
                raise ValueError("larger than 64 KiB")
    return KeySet.import_key_set(public_key_set(json.loads(body)))


def fetched_keys(uri: str, kid: str | None) -> KeySet:
    """The keys published at ``uri``, from the cache while it holds ``kid``."""
    now = clock.monotonic()
    with _lock:
        cached = _fetched.get(uri)
    if cached is not None:
        fresh = now - cached.at < KEEP_SECONDS
        if (fresh and cached.holds(kid)) or now - cached.at < REFETCH_AFTER:
            return cached.keys
    try:
        keys = _download(uri)
    except (requests.RequestException, ValueError, TypeError) as err:
        log.warning("client JWKS %s unavailable: %s", uri, type(err).__name__)
        if cached is None:
            raise KeysUnavailable(uri) from None
        return cached.keys
    with _lock:
        _fetched[uri] = _Fetched(now, keys)
    return keys


def client_keys(jwks: dict[str, Any] | None, jwks_uri: str | None, kid: str | None) -> KeySet:
    if jwks:
        try:
            return KeySet.import_key_set(jwks)  # type: ignore[arg-type]
        except (JoseError, ValueError, TypeError, KeyError):
            raise KeysUnavailable("unreadable registered JWK set") from None
    if jwks_uri:
        return fetched_keys(jwks_uri, kid)
    raise KeysUnavailable("no keys registered")
