"""The mails and notices the account pages send, with the manual's subjects and bodies."""

from __future__ import annotations

from flask import render_template

from .. import clock, notify
from ..mail import Mail
from ..models import User
from ..sms import Sms
from ..tenants.notices import tell_managers
from . import links

TWO_STEP_RESET_SMS = (
    "【ワークストレージ】パスワードの再設定に伴い、2段階認証の登録をリセットしました。"
    "お心当たりがない場合は、至急契約者・管理者にご連絡ください。"
    "Work Storage: your two-step verification was reset with your password. "
    "If this was not you, contact your administrator at once."
)


def _mail(user: User, subject: str, template: str, **context: str) -> Mail:
    body = render_template(f"email/{template}.txt", name=user.name or user.email, **context)
    return Mail(to=user.email, subject=subject, body=body)


def unlock_mail(user: User) -> Mail:
    url = links.create("unlock", user, "recovery.unlock")
    return _mail(user, "【ワークストレージ】アカウントロック", "unlock", url=url)


def reset_mail(user: User) -> Mail:
    url = links.create("reset", user, "recovery.reset")
    return _mail(user, "【ワークストレージ】パスワードリセット", "reset", url=url)


def invitation_mail(user: User, inviter: str | None) -> Mail:
    """Manual §1.5: 「利用者登録のご案内」, naming who invited (None: the service operator)."""
    url = links.create("invite", user, "registration.register")
    return _mail(user, "【コワークストレージ】利用者登録のご案内", "invitation", url=url, inviter=inviter or "")


def two_step_cleared_mail(user: User) -> Mail:
    """The holder or an admin reset ``user``'s two-step registration (manual §5.2)."""
    return _mail(user, "【ワークストレージ】2段階認証の登録のリセット", "two_step_cleared")


def password_changed_mail(user: User) -> Mail:
    """A notice, not a request: it carries no link."""
    when = clock.japan(clock.now())
    return _mail(user, "【ワークストレージ】パスワード変更のお知らせ", "password_changed", when=when)


def tell_of_cleared_two_step(user: User, phone: str | None) -> None:
    """A password reset cleared ``user``'s second factor: an SMS to the number it
    had (if it was one), a mail to the tenant's holder and admins, after the response."""
    if phone:
        notify.send_sms_after_response(Sms(to=phone, body=TWO_STEP_RESET_SMS))
    when = clock.japan(clock.now(), "%Y/%m/%d %H:%M JST")
    tell_managers(
        user.tenant,
        "【ワークストレージ】2段階認証の登録のリセット",
        "two_step_reset",
        user_email=user.email,
        user_name=user.name or user.email,
        when=when,
    )


# -- email address, login method and second-factor device (manual §2, §5.2) --------

EMAIL_CHANGE_SUBJECT = "【コワークストレージ】メールアドレス変更登録"
EMAIL_CHANGED_SUBJECT = "【コワークストレージ】メールアドレス変更のお知らせ"
LOGIN_METHOD_SUBJECT = "【コワークストレージ】ログイン方法の設定変更"
DEVICE_CHANGED_SUBJECT = "【コワークストレージ】2段階認証の端末変更のお知らせ"


def _now_jst() -> str:
    return clock.japan(clock.now())


def email_change_mail(user: User, new_email: str) -> Mail:
    """Manual §2.1 (2) (3): to the new address, its one link completes the change."""
    url = links.create("email_change", user, "account_email.confirm", email=new_email)
    body = render_template("email/email_change.txt", name=user.name or user.email, url=url)
    return Mail(to=new_email, subject=EMAIL_CHANGE_SUBJECT, body=body)


def email_changed_notice(user: User, old_email: str) -> Mail:
    """To the address the account had: whoever holds it learns of the change."""
    body = render_template(
        "email/email_changed.txt", name=user.name or old_email, new_email=user.email, when=_now_jst()
    )
    return Mail(to=old_email, subject=EMAIL_CHANGED_SUBJECT, body=body)


def login_method_mail(user: User) -> Mail:
    """Manual §2.2 (1) (1): sent by an admin; its one link opens the choice of method."""
    url = links.create("login_method", user, "account_method.by_mail")
    return _mail(user, LOGIN_METHOD_SUBJECT, "login_method", url=url)


def device_changed_mail(user: User, method: str) -> Mail:
    return _mail(user, DEVICE_CHANGED_SUBJECT, "device_changed", method=method, when=_now_jst())
