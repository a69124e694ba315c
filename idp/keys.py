"""Signing keys in ``keys/``: their states, rotation and the published JWKS.

Layout: one PEM per key (``<kid>.pem``, mode 0600, optionally encrypted with
the configured passphrase) and ``keyset.json`` naming each key's algorithm and
state. Each algorithm (RS256, ES256) has its own chain of states::

    next  ->  active  ->  retiring  ->  retired

JWKS publishes next, active and retiring keys, so a relying party that cached
the JWKS before a rotation already knows the key that becomes active, and
still knows the one that signed any unexpired token.

A rotation writes the new PEM first and then replaces ``keyset.json`` with one
atomic rename, under an exclusive lock: killed at any point, it leaves either
the old key set or the new one, never a mix. Every process (each gunicorn
worker, each node sharing the folder) notices a new ``keyset.json`` by its
stat signature and reloads; PEM parsing happens only then, since parsing an
RSA key costs tens of milliseconds and signing with a parsed one well under one.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from joserfc.jwk import ECKey, RSAKey

ALGORITHMS = ("RS256", "ES256")
PUBLISHED = ("next", "active", "retiring")
KEYSET_FILE = "keyset.json"


class KeyError_(Exception):
    """A key operation that cannot be done; the message is for an operator."""


@dataclass(frozen=True)
class KeyRecord:
    kid: str
    alg: str
    state: str
    created: str
    activated: str | None = None
    retiring_since: str | None = None
    retired: str | None = None

    def time(self, field: str) -> datetime | None:
        value = getattr(self, field)
        return datetime.fromisoformat(value) if value else None


def _iso(now: datetime) -> str:
    return now.astimezone(UTC).isoformat(timespec="seconds")


def _atomic_write(path: Path, data: bytes, mode: int = 0o600) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class KeyStore:
    """The key folder: reads states, performs transitions, loads key objects."""

    def __init__(self, folder: Path, passphrase: str = "") -> None:
        self.folder = folder
        self.passphrase = passphrase.encode() or None
        self._lock = threading.Lock()
        self._signature: tuple[int, int, int] | None = None
        self._loaded: LoadedKeys | None = None

    # -- reading -----------------------------------------------------------

    def records(self) -> list[KeyRecord]:
        path = self.folder / KEYSET_FILE
        if not path.exists():
            return []
        data = json.loads(path.read_text())
        return [KeyRecord(**item) for item in data["keys"]]

    def _stat_signature(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.folder / KEYSET_FILE)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def current(self) -> LoadedKeys:
        """The parsed key set, reloaded only when ``keyset.json`` changed."""
        signature = self._stat_signature()
        loaded = self._loaded
        if loaded is not None and signature == self._signature:
            return loaded
        with self._lock:
            if self._loaded is None or signature != self._signature:
                self._loaded = LoadedKeys(self.records(), self._read_private_key)
                self._signature = signature
            return self._loaded

    def _read_private_key(self, record: KeyRecord) -> ECKey | RSAKey:
        pem = (self.folder / f"{record.kid}.pem").read_bytes()
        native = serialization.load_pem_private_key(pem, password=self.passphrase)
        params = {"kid": record.kid, "alg": record.alg, "use": "sig"}
        if record.alg == "ES256":
            return ECKey.import_key(native, params)  # type: ignore[arg-type]
        return RSAKey.import_key(native, params)  # type: ignore[arg-type]

    # -- writing -----------------------------------------------------------

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / ".lock", "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def _save(self, records: list[KeyRecord]) -> None:
        body = json.dumps({"keys": [asdict(r) for r in records]}, indent=2).encode()
        _atomic_write(self.folder / KEYSET_FILE, body)

    def _new_key(self, alg: str, state: str, now: datetime) -> KeyRecord:
        if alg == "ES256":
            native: Any = ec.generate_private_key(ec.SECP256R1())
        else:
            native = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        encryption = (
            serialization.BestAvailableEncryption(self.passphrase) if self.passphrase else serialization.NoEncryption()
        )
        pem = native.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
        kid = f"{alg.lower()}-{now:%Y%m%d}-{secrets.token_hex(4)}"
        _atomic_write(self.folder / f"{kid}.pem", pem)
        activated = _iso(now) if state == "active" else None
        return KeyRecord(kid=kid, alg=alg, state=state, created=_iso(now), activated=activated)

    def ensure(self, now: datetime | None = None) -> bool:
        """Create an active key and its ``next`` for every algorithm that lacks them."""
        now = now or datetime.now(UTC)
        with self._exclusive():
            records = self.records()
            added = []
            for alg in ALGORITHMS:
                states = {r.state for r in records if r.alg == alg}
                if "active" not in states:
                    added.append(self._new_key(alg, "active", now))
                if "next" not in states:
                    added.append(self._new_key(alg, "next", now))
            if added:
                self._save(records + added)
            return bool(added)

    def rotate(
        self,
        algs: tuple[str, ...] = ALGORITHMS,
        *,
        max_age: int,
        force: bool = False,
        now: datetime | None = None,
    ) -> list[KeyRecord]:
        """Promote ``next`` to active, move active to retiring, create a new ``next``.

        Refuses while a ``next`` key has been published for less than the JWKS
        cache time (``max_age``), since a relying party may not have seen it yet.
        """
        now = now or datetime.now(UTC)
        with self._exclusive():
            records = self.records()
            for alg in algs:
                records = self._rotate_chain(records, alg, max_age, force, now)
            self._save(records)
            return records

    def _rotate_chain(
        self, records: list[KeyRecord], alg: str, max_age: int, force: bool, now: datetime
    ) -> list[KeyRecord]:
        nxt = next((r for r in records if r.alg == alg and r.state == "next"), None)
        if nxt is None:
            raise KeyError_(f"no next {alg} key to activate; run `idp keys list` and `make run` first")
        published_for = (now - nxt.time("created")).total_seconds()  # type: ignore[operator]
        if published_for < max_age and not force:
            raise KeyError_(
                f"next {alg} key {nxt.kid} has been published for {int(published_for)} s, "
                f"less than the JWKS cache time of {max_age} s; wait, or use --force"
            )
        rotated = []
        for r in records:
            if r.alg == alg and r.state == "active":
                r = replace(r, state="retiring", retiring_since=_iso(now))
            elif r is nxt:
                r = replace(r, state="active", activated=_iso(now))
            rotated.append(r)
        rotated.append(self._new_key(alg, "next", now))
        return rotated

    def due_algorithms(self, rotate_after_days: int, now: datetime | None = None) -> tuple[str, ...]:
        """Algorithms whose active key is older than ``rotate_after_days`` (0: never)."""
        if rotate_after_days <= 0:
            return ()
        now = now or datetime.now(UTC)
        limit = timedelta(days=rotate_after_days)
        return tuple(
            r.alg
            for r in self.records()
            if r.state == "active" and now - (r.time("activated") or r.time("created")) >= limit  # type: ignore[operator]
        )

    def prune(self, keep_for: int, now: datetime | None = None) -> list[KeyRecord]:
        """Retire ``retiring`` keys older than ``keep_for`` seconds and delete their PEM.

        ``keep_for`` is the longest token lifetime plus the JWKS cache time: by
        then no unexpired token signed by the key exists, and no relying party
        holds a cached JWKS without the key that replaced it.
        """
        now = now or datetime.now(UTC)
        with self._exclusive():
            records, retired = [], []
            for r in self.records():
                since = r.time("retiring_since")
                if r.state == "retiring" and since and (now - since).total_seconds() >= keep_for:
                    r = replace(r, state="retired", retired=_iso(now))
                    retired.append(r)
                records.append(r)
            if retired:
                self._save(records)
                for r in retired:
                    with contextlib.suppress(FileNotFoundError):
                        (self.folder / f"{r.kid}.pem").unlink()
            return retired


class LoadedKeys:
    """Parsed keys of one ``keyset.json`` version, and the JWKS they publish."""

    def __init__(self, records: list[KeyRecord], read: Any) -> None:
        published = [r for r in records if r.state in PUBLISHED]
        self.keys = {r.kid: read(r) for r in published}
        self.active = {r.alg: self.keys[r.kid] for r in published if r.state == "active"}
        self.jwks = {"keys": [self.keys[r.kid].as_dict(private=False) for r in published]}
        self.jwks_body = json.dumps(self.jwks, separators=(",", ":")).encode()

    def signing_key(self, alg: str) -> ECKey | RSAKey:
        try:
            return self.active[alg]
        except KeyError:
            raise KeyError_(f"no active {alg} signing key; run `idp keys list`") from None
