"""A tenant's registered line numbers (回線番号): CAF + 10 or COP + 8 alphanumerics."""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import select

from .. import db
from ..audit import record
from ..models import Tenant, TenantLine, User
from .policy import PolicyError

PATTERN = re.compile(r"CAF[0-9A-Z]{10}|COP[0-9A-Z]{8}")
MAX_INPUT = 64


def normalize(raw: str) -> str:
    """Upper case, full-width forms folded, spaces and hyphens removed."""
    text = unicodedata.normalize("NFKC", raw or "")[:MAX_INPUT]
    return re.sub(r"[\s\-‐－ー]", "", text).upper()


def validate(raw: str) -> str:
    """The canonical number, or PolicyError saying why it is refused."""
    number = normalize(raw)
    if not number:
        raise PolicyError("enter a line number")
    if not number.startswith(("CAF", "COP")):
        raise PolicyError("a line number starts with CAF or COP")
    if not PATTERN.fullmatch(number):
        raise PolicyError("CAF is followed by 10 letters or digits, COP by 8")
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
        raise PolicyError(f"{number} is already registered")
    db.session().add(TenantLine(tenant_id=tenant.id, number=number))
    db.session().flush()
    record("tenant.line_added", user=actor, tenant_id=tenant.id, number=number, via=via)
    return number


def remove(tenant: Tenant, raw: str, actor: User | None = None, via: str = "admin_console") -> str:
    number = normalize(raw)
    row = db.session().scalar(select(TenantLine).where(TenantLine.tenant_id == tenant.id, TenantLine.number == number))
    if row is None:
        raise PolicyError(f"{number or raw!r} is not registered")
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
