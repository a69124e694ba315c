"""A tenant's registered line numbers (回線番号): CAF + 10 or COP + 8 alphanumerics."""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum

from sqlalchemy import select

from .. import db
from ..audit import record
from ..models import Tenant, TenantLine, User
from .policy import PolicyError

PATTERN = re.compile(r"CAF[0-9A-Z]{10}|COP[0-9A-Z]{8}")
# Longer than any number written with spaces or hyphens between its groups.
MAX_INPUT = 64


class Refusal(StrEnum):
    """Why a number was refused. The admin console words each reason in the
    person's language; the command line prints the value."""

    EMPTY = "enter a line number"
    PREFIX = "a line number starts with CAF or COP"
    SHAPE = "CAF is followed by 10 letters or digits, COP by 8"
    DUPLICATE = "is already registered"
    UNKNOWN = "is not registered"


class LineRefused(PolicyError):
    def __init__(self, reason: Refusal, number: str = "") -> None:
        self.reason = reason
        super().__init__(f"{number} {reason}" if number else str(reason))


# Whatever people type between groups of digits: spaces, hyphens, dashes, the
# minus sign and the long vowel mark (ー) an IME gives for "-".
SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212\u30fc]")


def normalize(raw: str) -> str:
    """Full-width forms folded, separators removed, ASCII letters upper-cased
    (only those: "ı".upper() is "I", and a number is ASCII as typed)."""
    text = SEPARATORS.sub("", unicodedata.normalize("NFKC", raw or ""))
    return "".join(c.upper() if c.isascii() else c for c in text)


def validate(raw: str) -> str:
    """The canonical number, or LineRefused saying why it is refused."""
    if len(raw or "") > MAX_INPUT:
        # Refused whole rather than cut: a cut value could look valid.
        raise LineRefused(Refusal.SHAPE)
    number = normalize(raw)
    if not number:
        raise LineRefused(Refusal.EMPTY)
    if not number.startswith(("CAF", "COP")):
        raise LineRefused(Refusal.PREFIX)
    if not PATTERN.fullmatch(number):
        raise LineRefused(Refusal.SHAPE)
    return number


def numbers(tenant: Tenant) -> list[str]:
    return list(
        db.session().scalars(
            select(TenantLine.number).where(TenantLine.tenant_id == tenant.id).order_by(TenantLine.number)
        )
    )


def add(tenant: Tenant, raw: str, actor: User | None = None, via: str = "admin_console") -> str:
    number = validate(raw)
    if number in numbers(tenant):
        raise LineRefused(Refusal.DUPLICATE, number)
    db.session().add(TenantLine(tenant_id=tenant.id, number=number))
    db.session().flush()
    record("tenant.line_added", user=actor, tenant_id=tenant.id, number=number, via=via)
    return number


def remove(tenant: Tenant, raw: str, actor: User | None = None, via: str = "admin_console") -> str:
    number = normalize(raw) if len(raw or "") <= MAX_INPUT else ""
    row = db.session().scalar(select(TenantLine).where(TenantLine.tenant_id == tenant.id, TenantLine.number == number))
    if row is None:
        raise LineRefused(Refusal.UNKNOWN, number or "that number")
    db.session().delete(row)
    record("tenant.line_removed", user=actor, tenant_id=tenant.id, number=number, via=via)
    return number


def is_registered(tenant_id: str, number: str | None) -> bool:
    if not number:
        return False
    found = db.session().scalar(
        select(TenantLine.id).where(TenantLine.tenant_id == tenant_id, TenantLine.number == number)
    )
    return found is not None
