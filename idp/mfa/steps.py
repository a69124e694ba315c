"""What the two-step pages of a sign-in (idp/mfa/views.py) and the change of
device (idp/account/device_views.py) do alike: send an SMS code within its
limits, say which limit stopped one and when the next can go, count wrong
codes towards the account lock, show a new authenticator secret once."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from flask import render_template
from flask_babel import gettext as _

from .. import audit, clock, db, notify
from ..account import messages
from ..auth import login, pipeline, throttle
from ..auth.login import Outcome
from ..auth.views import outcome_message
from ..mail import TransportError
from ..models import User
from . import sms, totp


@dataclass(frozen=True)
class SendProblem:
    """Why no SMS went out: the text for the person and the page's status."""

    message: str
    status: int
    refused: sms.SendRefused | None = None


def send_code(user: User, phone: str, purpose: str, flow: str | None = None) -> SendProblem | None:
    """Send a new SMS code at once; what went wrong if it cannot be sent (nothing is used up)."""
    if refused := sms.take_send(user):
        db.session().rollback()  # nothing is sent: the minute taken before an hour refused is given back
        return SendProblem(limit_message(user) or limit_message_for(refused, None), 429, refused)
    _row, message = sms.new_code(user, phone, purpose, flow)
    try:
        notify.send_sms_now(message)
    except TransportError as e:
        # The new code was never delivered: roll back so the earlier code stays
        # valid and this attempt does not count against the resend limits; the
        # audit event (recorded after the rollback) shows operators the outage.
        db.session().rollback()
        audit.record("mfa.sms_failed", user=user, purpose=purpose, error=str(e)[:200])
        return SendProblem(_("The SMS could not be sent. Please try again later."), 503)
    audit.record("mfa.sms_sent", user=user, purpose=purpose)
    return None


def limit_message(user: User) -> str | None:
    """Which SMS limit stops a new code now, and when one can be sent; None if one can."""
    blocked = sms.blocked_until(user)
    return limit_message_for(*blocked) if blocked else None


def limit_message_for(refused: sms.SendRefused, until: datetime | None) -> str:
    """The limit actually reached, named, with the wait it leaves."""
    left = max(1, math.ceil((until - clock.now()).total_seconds())) if until else None
    if refused == sms.SendRefused.TOO_SOON:
        text = _("A code was sent a moment ago: at most one code a minute is sent.")
        wait = _("A new code can be sent in %(seconds)d seconds.", seconds=left) if left else ""
    else:
        text = _("Too many codes were sent: at most %(count)d codes an hour are sent.", count=sms.MAX_PER_HOUR)
        wait = _("A new code can be sent in %(minutes)d minutes.", minutes=math.ceil(left / 60)) if left else ""
    return f"{text} {wait}".strip()


def code_error(result: sms.CheckResult) -> str:
    if result == sms.CheckResult.WRONG:
        return _("The code is not correct. Check the SMS and try again.")
    return _("This code can no longer be used. Ask for a new code.")


def totp_error() -> str:
    return _("The code is not correct. Enter the 6 digits your authenticator app shows now.")


def recovery_error() -> str:
    return _("The recovery code is not correct.")


def _failure_key(user: User) -> str:
    return f"mfa:{user.id}"


def succeeded(user: User) -> None:
    """A right second step ends the run of wrong ones."""
    throttle.clear(_failure_key(user))


def failed(user: User, method: str, reason: str) -> tuple[str, int] | None:
    """Count a wrong second step. Whoever holds the password must not guess codes
    forever: the 10th wrong code in a row locks the account like 10 wrong
    passwords do, with the same unlock mail. Returns the page to show then."""
    failures = throttle.bump(_failure_key(user))
    audit.record("mfa.failure", user=user, method=method, reason=reason, consecutive=failures)
    if failures < throttle.LOCK_AFTER:
        return None
    throttle.clear(_failure_key(user))
    if login.lock(user):
        notify.send_mail_after_response(messages.unlock_mail(user))
    pipeline.abandon()
    return render_template("mfa/error.html", message=outcome_message(Outcome.LOCKED)), 401


@dataclass(frozen=True)
class ShownSecret:
    """A new authenticator secret: sealed for the one flow that shows it, and what the page shows."""

    sealed: str
    secret: str
    uri: str
    qr: str


def show_new_secret(flow: str, email: str) -> ShownSecret:
    """Each display makes a new secret, kept sealed in this flow only: one shown
    before (to this or any other flow) can no longer be confirmed."""
    secret = totp.new_secret()
    uri = totp.provisioning_uri(secret, email)
    return ShownSecret(totp.seal_shown(flow, secret), secret, uri, totp.qr_svg_data_uri(uri))
