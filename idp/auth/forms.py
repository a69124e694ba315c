"""Forms of the hosted sign-in pages (Flask-WTF: every form carries csrf_token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, HiddenField, PasswordField
from wtforms.validators import DataRequired, Length

from ..forms import Form


class LoginForm(Form):
    email = EmailField(_l("Email address"), validators=[DataRequired(), Length(max=254)])
    # The upper bound keeps argon2id from being fed megabytes.
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])
    interaction = HiddenField()


class LogoutForm(Form):
    pass
