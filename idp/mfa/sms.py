"""Codes by SMS: 6 digits, valid 10 minutes, 5 tries, used once, resends throttled."""

from __future__ import annotations

import re
import secrets
import unicodedata
from datetime import datetime, timedelta
from enum import StrEnum

from flask import current_app
from sqlalchemy import ColumnElement, select, update

from .. import clock, db, ratelimit
from ..hashing import keyed_digest
from ..models import SmsCode, User
from ..sms import Sms

TTL = timedelta(minutes=10)
MAX_TRIES = 5
RESEND_AFTER = timedelta(seconds=60)
MAX_PER_HOUR = 5
# Japanese mobile numbers (060/070/080/090 + 8 digits) take SMS.
JP_MOBILE = re.compile(r"0[6789]0[0-9]{8}")
E164 = re.compile(r"\+[1-9][0-9]{7,14}")
# What people put between digit groups. Japanese input methods often give a
# dash-like character that NFKC leaves alone: the long vowel mark ー, the
# minus sign −, or one of the Unicode dashes.
SEPARATORS = re.compile(r"[\s\-()（）.‐‑‒–—―−ー]")


class SendRefused(StrEnum):
    TOO_SOON = "too_soon"
    TOO_MANY = "too_many"


class CheckResult(StrEnum):
    OK = "ok"
    WRONG = "wrong"
    EXPIRED = "expired"  # expired, used, or out of tries: ask for a new code


def normalize_phone(raw: str) -> str | None:
    """E.164 from what people type: 090-1234-5678, ０９０ー１２３４ー５６７８, +81 90-1234-5678."""
    text = unicodedata.normalize("NFKC", raw or "").strip()
    digits = SEPARATORS.sub("", text)
    if digits.startswith("+81"):
        digits = "0" + digits[3:].lstrip("0")
    if JP_MOBILE.fullmatch(digits):
        return "+81" + digits[1:]
    if E164.fullmatch(digits) and not digits.startswith("+81"):
        return digits
    return None


def _key() -> str:
    return current_app.extensions["idp.settings"].secret_key


def take_send(user: User) -> SendRefused | None:
    """Take one of the user's sends: one a minute, five an hour.

    Each limit is an atomic use of a counter (idp/ratelimit.py), so racing
    requests cannot all pass a count read before any of them sent. The uses
    are given back when the request rolls back, as it does when nothing was
    sent (a refusal here, or a failing gateway)."""
    if not ratelimit.take(f"sms-minute:{user.id}", 1, RESEND_AFTER):
        return SendRefused.TOO_SOON
    if not ratelimit.take(f"sms-hour:{user.id}", MAX_PER_HOUR, timedelta(hours=1)):
        return SendRefused.TOO_MANY
    return None


def blocked_until(user: User) -> tuple[SendRefused, datetime] | None:
    """Which limit stops a send now, and when a send is possible again."""
    if at := ratelimit.free_at(f"sms-minute:{user.id}", 1, RESEND_AFTER):
        return SendRefused.TOO_SOON, at
    if at := ratelimit.free_at(f"sms-hour:{user.id}", MAX_PER_HOUR, timedelta(hours=1)):
        return SendRefused.TOO_MANY, at
    return None


def _latest_unused(user: User, purpose: str, *where: ColumnElement[bool]) -> SmsCode | None:
    return db.session().scalar(
        select(SmsCode)
        .where(SmsCode.user_id == user.id, SmsCode.purpose == purpose, SmsCode.used_at.is_(None), *where)
        .order_by(SmsCode.created_at.desc())
        .limit(1)
    )


def has_live_code(user: User, purpose: str) -> bool:
    """Whether the latest code of ``purpose`` can still be entered."""
    row = _latest_unused(user, purpose)
    return row is not None and row.expires_at > clock.now() and row.tries < MAX_TRIES


def new_code(user: User, phone: str, purpose: str, flow: str | None = None) -> tuple[SmsCode, Sms]:
    """Store a new code (earlier ones of the same purpose die) and the message to send.

    An enrolment code names the pending sign-in (``flow``) it was sent for."""
    code = f"{secrets.randbelow(10**6):06d}"
    now = clock.now()
    db.session().execute(
        update(SmsCode)
        .where(SmsCode.user_id == user.id, SmsCode.purpose == purpose, SmsCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    row = SmsCode(
        user_id=user.id,
        phone=phone,
        purpose=purpose,
        flow_id=flow,
        code_hash=keyed_digest(_key(), code),
        expires_at=now + TTL,
        created_at=now,
    )
    db.session().add(row)
    body = f"【ワークストレージ】認証コード: {code}\n10分以内に入力してください。Verification code: {code}"
    return row, Sms(to=phone, body=body)


def check(user: User, purpose: str, code: str) -> CheckResult:
    """Check the latest code of ``purpose``."""
    return _check(_latest_unused(user, purpose), code)


def check_enrolment(user: User, flow: str, phone: str, code: str) -> tuple[CheckResult, str | None]:
    """Check the code sent for enrolment in the sign-in ``flow`` to ``phone``, and
    return the number it was sent to: a code confirms only the number that got
    it, and only in the sign-in that asked for it."""
    return check_in_flow(user, "enrol", flow, phone, code)


def check_in_flow(user: User, purpose: str, flow: str, phone: str, code: str) -> tuple[CheckResult, str | None]:
    """Check the latest code of ``purpose`` sent to ``phone`` within ``flow`` (a
    pending sign-in, or a change of device), and return the number it was sent to."""
    row = _latest_unused(user, purpose, SmsCode.flow_id == flow, SmsCode.phone == phone)
    result = _check(row, code)
    return result, row.phone if row is not None and result == CheckResult.OK else None


def _check(row: SmsCode | None, code: str) -> CheckResult:
    """Each try is counted, and the right code is used up, both by conditional
    UPDATEs so racing requests cannot both win."""
    session, now = db.session(), clock.now()
    if row is None or row.expires_at <= now:
        return CheckResult.EXPIRED
    counted = session.execute(
        update(SmsCode)
        .where(SmsCode.id == row.id, SmsCode.tries < MAX_TRIES, SmsCode.used_at.is_(None))
        .values(tries=SmsCode.tries + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if counted != 1:
        return CheckResult.EXPIRED
    given = re.sub(r"[^0-9]", "", unicodedata.normalize("NFKC", code or ""))
    if not secrets.compare_digest(keyed_digest(_key(), given), row.code_hash):
        return CheckResult.WRONG
    used = session.execute(
        update(SmsCode)
        .where(SmsCode.id == row.id, SmsCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    return CheckResult.OK if used == 1 else CheckResult.EXPIRED
