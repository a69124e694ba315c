"""Recovery codes: one per user, shown once, hashed, used once and replaced at once.

A code is stored as argon2id (idp/passwords.py), salted and slow like a
password: it skips the second step, so a copy of the table must not give it
away. Codes stored earlier as a SHA-256 digest still work, once.
"""

from __future__ import annotations

import re
import secrets
import unicodedata

from flask import current_app
from sqlalchemy import update

from .. import db
from ..hashing import matches
from ..models import MfaEnrolment

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud or copied by hand
GROUPS, GROUP_LEN = 4, 5  # 20 symbols of 5 bits: 100 bits
ARGON2 = "$argon2"


def new_code() -> str:
    symbols = "".join(secrets.choice(ALPHABET) for _ in range(GROUPS * GROUP_LEN))
    return "-".join(symbols[i : i + GROUP_LEN] for i in range(0, len(symbols), GROUP_LEN))


def canonical(code: str) -> str:
    """Accept the code as copied: spaces, hyphens, full-width forms, any case."""
    return re.sub(r"[\s\-‐－ー]", "", unicodedata.normalize("NFKC", code or "")).upper()


def _hash(code: str) -> str:
    return current_app.extensions["idp.passwords"].hash(canonical(code))


def _is(stored: str | None, given: str) -> bool:
    if stored and not stored.startswith(ARGON2):
        return matches(canonical(given), stored)  # a SHA-256 digest from before
    return current_app.extensions["idp.passwords"].verify(stored, canonical(given))


def set_new(enrolment: MfaEnrolment) -> str:
    code = new_code()
    enrolment.recovery_code_hash = _hash(code)
    return code


def is_code(enrolment: MfaEnrolment, given: str) -> bool:
    """Whether ``given`` is the recovery code, without using it up: for a proof
    whose use is decided later by a condition on the stored hash (enrolment.replace)."""
    return _is(enrolment.recovery_code_hash, given)


def use(enrolment: MfaEnrolment, given: str) -> str | None:
    """Burn the recovery code if ``given`` is it, and return its replacement.

    After the hash is verified, the swap is one conditional UPDATE on the
    stored hash that was verified, so of two racing requests with the same
    code exactly one gets a replacement."""
    stored = enrolment.recovery_code_hash
    if not _is(stored, given):
        return None
    replacement = new_code()
    won = (
        db.session()
        .execute(
            update(MfaEnrolment)
            .where(MfaEnrolment.id == enrolment.id, MfaEnrolment.recovery_code_hash == stored)
            .values(recovery_code_hash=_hash(replacement))
            .execution_options(synchronize_session=False)
        )
        .rowcount
    )
    return replacement if won == 1 else None
