"""The verify that maps its own memory says what argon2-cffi's verify says, for
every argon2 variant and cost, and refuses what is not a hash."""

from __future__ import annotations

import mmap
import resource

import pytest
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from idp import argon2_pages
from idp.config import load_settings
from idp.passwords import Passwords

PASSWORD = "Kx7-mQ2v 東京"


def agrees(hasher: PasswordHasher, encoded: str, password: str) -> bool:
    try:
        library = hasher.verify(encoded, password)
    except VerifyMismatchError:
        library = False
    assert argon2_pages.verify(encoded, password) is library
    return library


@pytest.mark.parametrize("kind", [Type.ID, Type.I, Type.D])
@pytest.mark.parametrize("cost", [(2, 19456, 1), (1, 8192, 2), (3, 4096, 4)])
def test_same_answer_as_argon2_cffi(kind: Type, cost: tuple[int, int, int]) -> None:
    time_cost, memory_cost, parallelism = cost
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism, type=kind)
    encoded = hasher.hash(PASSWORD)
    assert agrees(hasher, encoded, PASSWORD)
    for wrong in ("", PASSWORD[:-1], PASSWORD + " ", PASSWORD.upper()):
        assert not agrees(hasher, encoded, wrong)


def test_other_salt_and_hash_lengths() -> None:
    hasher = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1, hash_len=64, salt_len=32)
    encoded = hasher.hash(PASSWORD)
    assert agrees(hasher, encoded, PASSWORD)
    assert not agrees(hasher, encoded, "other")


B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def test_a_changed_hash_no_longer_matches() -> None:
    # The hash's first character: all six of its bits are the hash's (the
    # last one's lowest bits are padding, and changing those is the next test).
    encoded = PasswordHasher(time_cost=1, memory_cost=8192).hash(PASSWORD)
    head, digest = encoded.rsplit("$", 1)
    spoilt = f"{head}${B64[(B64.index(digest[0]) + 1) % 64]}{digest[1:]}"
    assert not argon2_pages.verify(spoilt, PASSWORD)


@pytest.mark.parametrize("part", [-1, -2], ids=["hash", "salt"])
def test_unused_last_bits_set_are_refused_as_the_library_does(part: int) -> None:
    # 32 bytes of hash in 43 characters and 16 of salt in 22 leave the last
    # character's lowest bits unused; setting one names the same bytes.
    hasher = PasswordHasher(time_cost=1, memory_cost=8192)
    fields = hasher.hash(PASSWORD).split("$")
    last = fields[part][-1]
    fields[part] = fields[part][:-1] + B64[B64.index(last) | 1]
    spoilt = "$".join(fields)
    with pytest.raises(VerificationError, match="Decoding failed"):
        hasher.verify(spoilt, PASSWORD)
    with pytest.raises(VerificationError, match="Decoding failed"):
        argon2_pages.verify(spoilt, PASSWORD)
    assert not Passwords(load_settings({})).verify(spoilt, PASSWORD)


@pytest.mark.parametrize(
    "encoded",
    [
        "",
        "not a hash",
        "$argon2id$v=19$m=8192,t=1,p=1$",
        "$argon2id$v=19$m=8192,t=1,p=1$c2FsdHNhbHQ$!!!!",
        "$bcrypt$v=19$m=8192,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        "$2b$12$abcdefghijklmnopqrstuuE4Q1l8KJQd4wq0zq3D4d7rQ5bL6y6mG",
    ],
)
def test_what_is_not_an_argon2_hash_raises_as_the_library_does(encoded: str) -> None:
    with pytest.raises(InvalidHashError):
        argon2_pages.verify(encoded, PASSWORD)


def test_parameters_argon2_refuses_are_an_error_not_a_match() -> None:
    # A salt of two bytes: argon2 itself refuses it (ARGON2_SALT_TOO_SHORT).
    with pytest.raises(VerificationError):
        argon2_pages.verify("$argon2id$v=19$m=8192,t=1,p=1$c2E$aGFzaGhhc2hoYXNoaGFzaA", PASSWORD)


def test_the_provider_refuses_broken_and_missing_hashes() -> None:
    passwords = Passwords(load_settings({}))
    assert not passwords.verify("$argon2id$v=19$m=8192,t=1,p=1$c2E$aGFzaA", PASSWORD)
    assert not passwords.verify("garbage", PASSWORD)
    assert not passwords.verify(None, "not a real password")  # the dummy's own password
    stored = passwords.hash(PASSWORD)
    assert passwords.verify(stored, PASSWORD) and not passwords.verify(stored, "x")


def test_memory_is_returned_after_each_verify() -> None:
    """Nothing stays mapped, and a verify faults in a handful of huge pages
    rather than thousands of small ones where the kernel offers them."""
    hasher = PasswordHasher(time_cost=1, memory_cost=19456, parallelism=1)
    encoded = hasher.hash(PASSWORD)
    argon2_pages.verify(encoded, PASSWORD)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(3):
        assert argon2_pages.verify(encoded, PASSWORD)
    faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 3
    assert argon2_pages._mapped == {}
    if huge_pages_offered():
        assert faults < 19456 * 1024 / mmap.PAGESIZE / 4


def huge_pages_offered() -> bool:
    try:
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
            return "[never]" not in f.read()
    except OSError:
        return False


def test_without_callbacks_the_library_verifies(monkeypatch: pytest.MonkeyPatch) -> None:
    """A host that allows no cffi callbacks still signs people in, with
    argon2-cffi's own verify and the same answers."""
    monkeypatch.setattr(argon2_pages, "CALLBACKS", None)
    hasher = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    encoded = hasher.hash(PASSWORD)
    assert argon2_pages.verify(encoded, PASSWORD) is True
    assert argon2_pages.verify(encoded, "wrong") is False
    with pytest.raises(InvalidHashError):
        argon2_pages.verify("not a hash", PASSWORD)
