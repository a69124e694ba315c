"""「【ワークストレージ】Active Directoryアカウントのログイン用URL・接続ID通知」
(manual §1.3): mailed to the tenant's holder when its connection id is new,
whichever way the connection was set up (the account menu, ``idp tenant ad``,
``idp tenant ldap``). The holder passes the connection id on to the people
who will sign in with Active Directory."""

from __future__ import annotations

from flask import current_app, render_template
from sqlalchemy import select

from .. import db, notify
from ..mail import Mail
from ..models import Directory, Role, User, UserStatus

SUBJECT = "【ワークストレージ】Active Directoryアカウントのログイン用URL・接続ID通知"


def login_url() -> str:
    return current_app.extensions["idp.settings"].issuer + "/login/ad"


def tell_holder(directory: Directory) -> None:
    """Mail the holder (after the response, or once a command's transaction commits)."""
    holders = db.session().scalars(
        select(User).where(
            User.tenant_id == directory.tenant_id,
            User.role == Role.HOLDER,
            User.status != UserStatus.DISABLED,
        )
    )
    for holder in holders:
        body = render_template(
            "email/ad_connection.txt",
            name=holder.name or holder.email,
            # The line gateway forwards to this same provider: one address serves both routes.
            internet_url=login_url(),
            line_url=login_url(),
            connection_id=directory.connection_id,
        )
        notify.send_mail_after_response(Mail(to=holder.email, subject=SUBJECT, body=body))
