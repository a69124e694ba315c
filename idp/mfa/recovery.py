"""Recovery codes: one per user, shown once, hashed, used once and replaced at once."""

from __future__ import annotations

import re
import secrets
import unicodedata

from sqlalchemy import update

from .. import db
from ..hashing import digest
from ..models import MfaEnrolment

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud or copied by hand
GROUPS, GROUP_LEN = 4, 5  # 20 symbols of 5 bits: 100 bits


def new_code() -> str:
    symbols = "".join(secrets.choice(ALPHABET) for _ in range(GROUPS * GROUP_LEN))
    return "-".join(symbols[i : i + GROUP_LEN] for i in range(0, len(symbols), GROUP_LEN))


def canonical(code: str) -> str:
    """Accept the code as copied: spaces, hyphens, full-width forms, any case."""
    return re.sub(r"[\s\-‐－ー]", "", unicodedata.normalize("NFKC", code or "")).upper()


def set_new(enrolment: MfaEnrolment) -> str:
    code = new_code()
    enrolment.recovery_code_hash = digest(canonical(code))
    return code


def use(enrolment: MfaEnrolment, given: str) -> str | None:
    """Burn the recovery code if ``given`` is it, and return its replacement.

    The swap is one conditional UPDATE on the old digest, so of two racing
    requests with the same code exactly one gets a replacement."""
    old = digest(canonical(given))
    replacement = new_code()
    won = (
        db.session()
        .execute(
            update(MfaEnrolment)
            .where(MfaEnrolment.id == enrolment.id, MfaEnrolment.recovery_code_hash == old)
            .values(recovery_code_hash=digest(canonical(replacement)))
            .execution_options(synchronize_session=False)
        )
        .rowcount
    )
    return replacement if won == 1 else None
