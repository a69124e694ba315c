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
the old key set or the new one, never a mix (at worst an unreferenced PEM,
removed by the next change). Every process (each gunicorn worker, each node
sharing the folder) notices a new ``keyset.json`` by its stat signature and
reloads; PEM parsing happens only then, since parsing an RSA key costs tens of
milliseconds and signing with a parsed one well under one.

With ``keys.rotate_after_days`` set, the provider runs the same sequence by
itself (``KeyStore.rotate_if_due``): whichever process first notices that a
chain is due takes the lock and rotates; the others see the new key set.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import secrets
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from joserfc.jwk import ECKey, RSAKey

from . import clock
from .config import Settings
from .periodic import AtMostEvery

ALGORITHMS = ("RS256", "ES256")
PUBLISHED = ("next", "active", "retiring")
KEYSET_FILE = "keyset.json"

# Key changes the provider makes by itself go to the audit log stream; the
# audit table needs a request's database session, which housekeeping has not.
audit_log = logging.getLogger("idp.audit")


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


@dataclass(frozen=True)
class RotationPolicy:
    """When the provider rotates and prunes by itself."""

    rotate_after_days: int  # 0: never by itself
    max_age: int  # JWKS cache time: a next key is published this long before it signs
    keep_for: int  # a retiring key stays published this long: longest token lifetime + max_age

    @classmethod
    def from_settings(cls, settings: Settings) -> RotationPolicy:
        return cls(
            rotate_after_days=settings.rotate_after_days,
            max_age=settings.jwks_max_age,
            keep_for=settings.longest_token_ttl + settings.jwks_max_age,
        )


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


# -- decisions on a list of records (no I/O) ------------------------------------


def _find(records: list[KeyRecord], alg: str, state: str) -> KeyRecord | None:
    return next((r for r in records if r.alg == alg and r.state == state), None)


def _published_for(record: KeyRecord, now: datetime) -> float:
    return (now - record.time("created")).total_seconds()  # type: ignore[operator]


def check_rotatable(records: list[KeyRecord], alg: str, max_age: int, force: bool, now: datetime) -> None:
    """Refuse to activate a ``next`` key that relying parties may not have fetched yet."""
    nxt = _find(records, alg, "next")
    if nxt is None:
        raise KeyError_(f"no next {alg} key to activate; run `idp keys ensure` first")
    published_for = _published_for(nxt, now)
    if published_for < max_age and not force:
        raise KeyError_(
            f"next {alg} key {nxt.kid} has been published for {int(published_for)} s, "
            f"less than the JWKS cache time of {max_age} s; wait, or use --force"
        )


def due_algorithms(records: list[KeyRecord], rotate_after_days: int, now: datetime) -> tuple[str, ...]:
    """Algorithms whose active key is older than ``rotate_after_days`` (0: never)."""
    if rotate_after_days <= 0:
        return ()
    limit = timedelta(days=rotate_after_days)
    return tuple(
        r.alg
        for r in records
        if r.state == "active" and now - (r.time("activated") or r.time("created")) >= limit  # type: ignore[operator]
    )


def ready_to_rotate(records: list[KeyRecord], policy: RotationPolicy, now: datetime) -> tuple[str, ...]:
    """Due chains whose ``next`` key has been published for at least the JWKS cache time."""
    ready = []
    for alg in due_algorithms(records, policy.rotate_after_days, now):
        nxt = _find(records, alg, "next")
        if nxt is not None and _published_for(nxt, now) >= policy.max_age:
            ready.append(alg)
    return tuple(ready)


def retire_expired(records: list[KeyRecord], keep_for: int, now: datetime) -> tuple[list[KeyRecord], list[KeyRecord]]:
    """The records with every ``retiring`` key older than ``keep_for`` seconds retired, and those keys.

    ``keep_for`` is the longest token lifetime plus the JWKS cache time: by
    then no unexpired token signed by the key exists, and no relying party
    holds a cached JWKS without the key that replaced it.
    """
    kept, retired = [], []
    for r in records:
        since = r.time("retiring_since")
        if r.state == "retiring" and since and (now - since).total_seconds() >= keep_for:
            r = replace(r, state="retired", retired=_iso(now))
            retired.append(r)
        kept.append(r)
    return kept, retired


class KeyStore:
    """The key folder: reads states, performs transitions, loads key objects."""

    # Seconds between two looks at the rotation schedule in one process: the
    # look sits on the signing path, so it must almost always be skipped.
    CHECK_EVERY = 60.0

    def __init__(self, folder: Path, passphrase: str = "") -> None:
        self.folder = folder
        self.passphrase = passphrase.encode() or None
        self.schedule = AtMostEvery(self.CHECK_EVERY)
        self._keyset_path = os.fspath(folder / KEYSET_FILE)  # a str: stat()ed on every signature
        self._lock = threading.Lock()
        self._signature: tuple[int, int, int] | None = None
        self._loaded: LoadedKeys | None = None

    @property
    def check_every(self) -> float:
        return self.schedule.every

    @check_every.setter
    def check_every(self, seconds: float) -> None:
        self.schedule.every = seconds

    # -- reading -----------------------------------------------------------

    def records(self) -> list[KeyRecord]:
        path = self.folder / KEYSET_FILE
        if not path.exists():
            return []
        data = json.loads(path.read_text())
        return [KeyRecord(**item) for item in data["keys"]]

    def _stat_signature(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self._keyset_path)
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
                self._loaded = self._load()
                self._signature = signature
            return self._loaded

    def _load(self) -> LoadedKeys:
        # Another process may retire a key and delete its PEM between our
        # reading keyset.json and that PEM; the keyset.json read again no
        # longer names it.
        for _ in range(2):
            with contextlib.suppress(FileNotFoundError):
                return LoadedKeys(self.records(), self._read_private_key)
        return LoadedKeys(self.records(), self._read_private_key)

    def _read_private_key(self, record: KeyRecord) -> ECKey | RSAKey:
        path = self.folder / f"{record.kid}.pem"
        try:
            native = serialization.load_pem_private_key(path.read_bytes(), password=self.passphrase)
        except (TypeError, ValueError) as e:
            raise KeyError_(f"cannot read {path}: wrong or missing keys.passphrase? ({e})") from None
        params = {"kid": record.kid, "alg": record.alg, "use": "sig"}
        if record.alg == "ES256":
            return ECKey.import_key(native, params)  # type: ignore[arg-type]
        return RSAKey.import_key(native, params)  # type: ignore[arg-type]

    def due_algorithms(self, rotate_after_days: int, now: datetime | None = None) -> tuple[str, ...]:
        """Algorithms whose active key is older than ``rotate_after_days`` (0: never)."""
        return due_algorithms(self.records(), rotate_after_days, now or clock.now())

    # -- writing -----------------------------------------------------------

    @contextlib.contextmanager
    def _exclusive(self, wait: bool = True) -> Iterator[bool]:
        """The folder's lock, shared by every process and node; yields False
        at once when ``wait`` is off and someone else holds it."""
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        with open(self.folder / ".lock", "a") as f:
            try:
                fcntl.flock(f, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def _save(self, records: list[KeyRecord]) -> None:
        body = json.dumps({"keys": [asdict(r) for r in records]}, indent=2).encode()
        _atomic_write(self.folder / KEYSET_FILE, body)

    def _commit(self, records: list[KeyRecord]) -> None:
        """Publish ``records``, then delete what they no longer need: the PEMs
        of retired keys and leftovers of a change killed half way."""
        self._save(records)
        keep = {f"{r.kid}.pem" for r in records if r.state in PUBLISHED}
        ours = tuple(f"{alg.lower()}-" for alg in ALGORITHMS)
        for path in self.folder.iterdir():
            key_file = path.suffix == ".pem" and path.name.startswith(ours)
            if path.name.startswith(".tmp-") or (key_file and path.name not in keep):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()

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

    def _rotated(self, records: list[KeyRecord], alg: str, now: datetime) -> list[KeyRecord]:
        """One chain moved on: next -> active -> retiring, plus a new next."""
        rotated = []
        for r in records:
            if r.alg == alg and r.state == "active":
                r = replace(r, state="retiring", retiring_since=_iso(now))
            elif r.alg == alg and r.state == "next":
                r = replace(r, state="active", activated=_iso(now))
            rotated.append(r)
        return [*rotated, self._new_key(alg, "next", now)]

    def ensure(self, now: datetime | None = None) -> bool:
        """Create an active key and its ``next`` for every algorithm that lacks them."""
        now = now or clock.now()
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
                self._commit(records + added)
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

        Refuses, before changing anything, while a ``next`` key has been
        published for less than the JWKS cache time (``max_age``), since a
        relying party may not have seen it yet.
        """
        now = now or clock.now()
        with self._exclusive():
            records = self.records()
            for alg in algs:
                check_rotatable(records, alg, max_age, force, now)
            for alg in algs:
                records = self._rotated(records, alg, now)
            self._commit(records)
            return records

    def prune(self, keep_for: int, now: datetime | None = None) -> list[KeyRecord]:
        """Retire ``retiring`` keys older than ``keep_for`` seconds and delete their PEM."""
        now = now or clock.now()
        with self._exclusive():
            records, retired = retire_expired(self.records(), keep_for, now)
            if retired:
                self._commit(records)
            return retired

    # -- the provider's own schedule -------------------------------------------

    def rotate_if_due(self, policy: RotationPolicy) -> None:
        """Rotate due chains and prune old retiring keys, looking at most every
        ``check_every`` seconds in this process: on the signing path, the usual
        cost is one monotonic clock read."""
        if policy.rotate_after_days <= 0 or not self.schedule.due():
            return
        try:
            self._run_schedule(policy, clock.now())
        except Exception:
            # The current keys still sign; a failed housekeeping run must not
            # fail the request that happened to trigger it.
            audit_log.exception("keys.schedule failed; retrying in %s s", self.check_every)

    def _run_schedule(self, policy: RotationPolicy, now: datetime) -> None:
        if not self._schedule_work(self.records(), policy, now):
            return
        with self._exclusive(wait=False) as held:
            if not held:
                return  # another worker or node is at it; it will publish the result
            records = self.records()  # again under the lock: it may have just been done
            algs = ready_to_rotate(records, policy, now)
            for alg in algs:
                records = self._rotated(records, alg, now)
            records, retired = retire_expired(records, policy.keep_for, now)
            if not (algs or retired):
                return
            self._commit(records)
        for alg in algs:
            active = _find(records, alg, "active")
            audit_log.info("keys.rotated automatically alg=%s active=%s", alg, active and active.kid)
        if retired:
            audit_log.info("keys.retired automatically kids=%s", [r.kid for r in retired])

    @staticmethod
    def _schedule_work(records: list[KeyRecord], policy: RotationPolicy, now: datetime) -> bool:
        return bool(ready_to_rotate(records, policy, now) or retire_expired(records, policy.keep_for, now)[1])


class LoadedKeys:
    """Parsed keys of one ``keyset.json`` version, and the JWKS they publish."""

    def __init__(self, records: list[KeyRecord], read: Callable[[KeyRecord], ECKey | RSAKey]) -> None:
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
