"""The mails the account pages send, with the manual's subjects and bodies."""

from __future__ import annotations

from flask import render_template

from ..mail import Mail
from ..models import User
from . import links


def _mail(user: User, subject: str, template: str, **context: str) -> Mail:
    body = render_template(f"email/{template}.txt", name=user.name or user.email, **context)
    return Mail(to=user.email, subject=subject, body=body)


def unlock_mail(user: User) -> Mail:
    url = links.create("unlock", user, "recovery.unlock")
    return _mail(user, "【ワークストレージ】アカウントロック", "unlock", url=url)


def reset_mail(user: User) -> Mail:
    url = links.create("reset", user, "recovery.reset")
    return _mail(user, "【ワークストレージ】パスワードリセット", "reset", url=url)
