"""An admin sends a user the mail that changes their email address or login
method (manual §2.2): on the user's detail page, メールアドレス変更; the same
address sends the login-method link, a new one the email-change link, never
both at once. Whichever the user completes first changes their credentials,
and with them the security stamp that the other link dies by.

Holders and admins of the user's own tenant only: anyone else's user is not
found (404); a plain user is refused (403)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import db
from ..admin.views import administrator
from ..models import Role, User, UserStatus
from . import email_change, login_method
from .change_forms import AdminMailForm
from .email_change import Refusal
from .email_views import expired

bp = Blueprint("admin_mail", __name__, url_prefix="/admin/users")

REFUSALS = {
    Refusal.INVALID: _l("Enter a valid email address."),
    Refusal.TOO_MANY: _l("Too many mails were sent to this user. Please try again in an hour."),
}


def _target(actor: User, user_id: str) -> User:
    user = db.session().get(User, user_id) if len(user_id) <= 36 else None
    if user is None or user.tenant_id != actor.tenant_id:
        abort(404)
    return user


def _refused(target: User) -> str | None:
    """Why no mail can be sent to ``target`` at all."""
    if target.role == Role.HOLDER:
        # Manual §2: the holder changes their own, from the account menu (basic plan only).
        return _("The contract holder changes their own login method and email address from the account menu.")
    if target.status not in (UserStatus.ACTIVE, UserStatus.LOCKED):
        return _("Mails for a change can be sent only to users who have completed their registration.")
    return None


@bp.route("/<user_id>/mail", methods=["GET", "POST"])
@administrator
def change(actor: User, user_id: str) -> str | tuple[str, int]:
    """メールアドレス変更: the address, then 「指定されたメールアドレスに確認メールを
    送信します。よろしいですか？」 on a page of its own, then the mail."""
    target = _target(actor, user_id)
    if refused := _refused(target):
        return render_template("admin/user_mail_refused.html", target=target, message=refused), 403
    form = AdminMailForm()
    if not form.is_submitted():
        form.email.data = target.email
        return _page("admin/user_mail.html", target, form)
    if not form.validate():  # only the CSRF token can fail
        return _page("admin/user_mail.html", target, form, expired()), 400
    address = email_change.normalize(form.email.data or "")
    if address is None:
        return _page("admin/user_mail.html", target, form, str(REFUSALS[Refusal.INVALID])), 400
    if form.stage.data != "confirm":
        return _page("admin/user_mail_confirm.html", target, form, address=address)
    return _send(actor, target, form, address)


def _send(actor: User, target: User, form: AdminMailForm, address: str) -> str | tuple[str, int]:
    if User.key_for(address) == target.email_key:
        sent, kind = login_method.send_mail(target, actor), "login_method"
    else:
        sent, kind = email_change.request_change(target, address, actor) is None, "email_change"
    if not sent:
        return _page("admin/user_mail.html", target, form, str(REFUSALS[Refusal.TOO_MANY])), 429
    return _page("admin/user_mail_sent.html", target, form, address=address, kind=kind)


def _page(template: str, target: User, form: AdminMailForm, error: str | None = None, **context: str) -> str:
    return render_template(template, target=target, form=form, error=error, **context)
