"""Human passwords: argon2id (argon2-cffi), rehashed when the cost changes."""

from __future__ import annotations

import ctypes
import ctypes.util

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from . import argon2_pages
from .config import Settings

M_MMAP_THRESHOLD = -3


def _return_hash_memory_to_the_os() -> None:
    """A verify maps its own memory (argon2_pages); a new hash (sign-up, reset,
    rehash) takes its 19 MiB from malloc. glibc raises its mmap threshold after
    the first such block is freed and then serves later ones from the heap,
    which it keeps: every worker would hold the memory of one hash for good. A
    fixed threshold keeps blocks of 1 MiB and more in mmap, returned when freed."""
    try:
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt(M_MMAP_THRESHOLD, 1 << 20)
    except (OSError, AttributeError):
        pass  # not glibc: nothing to tune


class Passwords:
    def __init__(self, settings: Settings) -> None:
        _return_hash_memory_to_the_os()
        self.hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_cost,
            parallelism=settings.argon2_parallelism,
        )
        # Verified against when the account does not exist, so that an unknown
        # email costs the same time as a known one.
        self._dummy = self.hasher.hash("not a real password")

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        try:
            return argon2_pages.verify(stored or self._dummy, password) and stored is not None
        except (VerificationError, InvalidHashError):  # argon2_pages answers a mismatch with False
            return False

    def needs_rehash(self, stored: str) -> bool:
        return self.hasher.check_needs_rehash(stored)
