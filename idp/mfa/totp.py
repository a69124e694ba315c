"""Authenticator apps (RFC 6238 TOTP, pyotp), with a replay guard in the database."""

from __future__ import annotations

import base64
import hmac
import io
import re
import unicodedata

import pyotp
import segno
from sqlalchemy import update

from .. import clock, db, sealing
from ..models import MfaEnrolment

ISSUER_NAME = "WorkStorage"
STEP = 30
CODE = re.compile(r"[0-9]{6}")


def new_secret() -> str:
    return pyotp.random_base32(32)  # 160 bits, RFC 4226 §4


def seal_secret(secret: str) -> str:
    return sealing.seal("totp", secret)


def secret_of(enrolment: MfaEnrolment) -> str | None:
    return sealing.unseal("totp", enrolment.totp_secret)


def seal_shown(flow: str, secret: str) -> str:
    """A secret being enrolled, sealed for the state of the one pending sign-in
    (``flow``) that showed it; it is never stored before it is confirmed."""
    return sealing.seal("totp-shown", f"{flow} {secret}")


def unseal_shown(flow: str, sealed: str | None, max_age: int) -> str | None:
    """The secret the sign-in ``flow`` showed, if it is still young enough."""
    owner, _, secret = (sealing.unseal("totp-shown", sealed, max_age) or "").partition(" ")
    return secret if secret and hmac.compare_digest(owner, flow) else None


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER_NAME)


def qr_svg_data_uri(uri: str) -> str:
    """The QR code as an SVG data URI (segno, pure Python), allowed by the page CSP."""
    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="svg", scale=5, border=2)
    return "data:image/svg+xml;base64," + base64.b64encode(out.getvalue()).decode()


def matching_step(secret: str, code: str) -> int | None:
    """The time step whose code equals ``code``, allowing one step of skew either way.

    Full-width digits and spaces (a Japanese input method's) are folded to
    ASCII first; then only six ASCII digits are a code (str.isdigit() would
    also admit "٣", an Arabic-Indic three)."""
    code = unicodedata.normalize("NFKC", code).strip().replace(" ", "")
    if not CODE.fullmatch(code):
        return None
    totp = pyotp.TOTP(secret)
    now = clock.now()
    current = int(now.timestamp()) // STEP
    found = None
    for step in (current - 1, current, current + 1):
        # Compare every candidate so the time taken does not depend on which matched.
        if totp.verify(code, for_time=step * STEP, valid_window=0):
            found = step
    return found


def accept(enrolment: MfaEnrolment, step: int) -> bool:
    """Record ``step`` as used; False if it (or a later one) was used already."""
    won = (
        db.session()
        .execute(
            update(MfaEnrolment)
            .where(MfaEnrolment.id == enrolment.id, MfaEnrolment.totp_last_step < step)
            .values(totp_last_step=step)
            .execution_options(synchronize_session=False)
        )
        .rowcount
    )
    return won == 1
