"""The contract details (契約情報) the holder keeps up to date: company name,
contact person and phone number. Checked here, so that every way in (the
account menu today) follows the same rules and stores only what fits."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from ..audit import record
from ..models import Tenant, User
from . import notices

SUBJECT = "【ワークストレージ】契約情報変更のお知らせ"
NAME_MAX = 100
# ASCII digits only (\d also matches other scripts' digits), with the usual
# separators; a leading + for a number written internationally.
PHONE = re.compile(r"\+?[0-9][0-9 ()-]*[0-9]")
PHONE_DIGITS = (10, 15)  # Japanese numbers have 10 or 11 digits; E.164 allows 15
PHONE_MAX = 20


class Field(StrEnum):
    COMPANY = "company_name"
    CONTACT = "contact_name"
    PHONE = "contact_phone"


class Problem(StrEnum):
    EMPTY = "empty"
    TOO_LONG = "too_long"
    CONTROL = "control"
    PHONE_CHARACTERS = "phone_characters"
    PHONE_LENGTH = "phone_length"


@dataclass(frozen=True)
class Details:
    company_name: str
    contact_name: str
    contact_phone: str

    @classmethod
    def of(cls, tenant: Tenant) -> Details:
        return cls(tenant.company_name, tenant.contact_name, tenant.contact_phone)

    @classmethod
    def entered(cls, company_name: str, contact_name: str, contact_phone: str) -> Details:
        """As typed, with surrounding spaces and full-width forms folded (NFKC:
        "０３－１２３４" is "03-1234")."""
        return cls(
            " ".join(company_name.split()),
            " ".join(contact_name.split()),
            unicodedata.normalize("NFKC", contact_phone).strip().replace("\u2212", "-"),
        )


def problems(details: Details) -> dict[Field, Problem]:
    """What is wrong with each field, if anything; every field is required."""
    found: dict[Field, Problem] = {}
    for field, value in ((Field.COMPANY, details.company_name), (Field.CONTACT, details.contact_name)):
        if problem := _name_problem(value):
            found[field] = problem
    if problem := _phone_problem(details.contact_phone):
        found[Field.PHONE] = problem
    return found


def _name_problem(value: str) -> Problem | None:
    if not value:
        return Problem.EMPTY
    if len(value) > NAME_MAX:
        return Problem.TOO_LONG
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn") for c in value):
        return Problem.CONTROL
    return None


def _phone_problem(value: str) -> Problem | None:
    if not value:
        return Problem.EMPTY
    if len(value) > PHONE_MAX:
        return Problem.TOO_LONG
    if not PHONE.fullmatch(value):
        return Problem.PHONE_CHARACTERS
    digits = sum(c.isascii() and c.isdigit() for c in value)
    if not PHONE_DIGITS[0] <= digits <= PHONE_DIGITS[1]:
        return Problem.PHONE_LENGTH
    return None


class DetailsRefused(ValueError):
    def __init__(self, found: dict[Field, Problem]) -> None:
        super().__init__(", ".join(f"{field}: {problem}" for field, problem in found.items()))
        self.problems = found


def save(tenant: Tenant, details: Details, actor: User | None = None, via: str = "account_menu") -> bool:
    """Store the details if every field is right; returns whether anything changed.
    A change is audited (which fields) and mailed to the holder and the admins."""
    if found := problems(details):
        raise DetailsRefused(found)
    before = Details.of(tenant)
    changed = [f for f in Field if getattr(before, f.value) != getattr(details, f.value)]
    if not changed:
        return False
    for field in changed:
        setattr(tenant, field.value, getattr(details, field.value))
    record("tenant.contract_changed", user=actor, tenant_id=tenant.id, fields=[str(f) for f in changed], via=via)
    notices.tell_managers_of_change(tenant, SUBJECT, "contract_changed", actor, via, details=details)
    return True
