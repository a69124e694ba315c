"""Forms of the email-address, login-method and admin mail pages. Only the CSRF
token is checked here: the domain call each view makes checks the fields, so
the page can say what to fix."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, StringField


class EmailChangeForm(FlaskForm):
    email = EmailField(_l("New email address"))
    email_confirm = EmailField(_l("New email address (again)"))


class MethodChoiceForm(FlaskForm):
    # The button pressed names the method: its data-provider.
    provider = StringField()


class AdminMailForm(FlaskForm):
    email = EmailField(_l("Email address"))
    # "choose" on the manual's メールアドレス変更 screen, "confirm" on its confirmation.
    stage = HiddenField(default="choose")
