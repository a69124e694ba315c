"""Forms of the two-step verification pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Length

from ..forms import Form


class PhoneForm(Form):
    phone = StringField(_l("Mobile phone number"), validators=[DataRequired(), Length(max=32)])


class CodeForm(Form):
    code = StringField(_l("Verification code"), validators=[DataRequired(), Length(max=16)])
    remember = BooleanField(_l("Remember this browser for a while"))


class RecoveryCodeForm(Form):
    recovery_code = StringField(_l("Recovery code"), validators=[DataRequired(), Length(max=64)])


class SavedForm(Form):
    saved = BooleanField(_l("I have saved the recovery code"), validators=[DataRequired()])


class ContinueForm(Form):
    pass
