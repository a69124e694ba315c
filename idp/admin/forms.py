"""Forms of the admin console."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length


class LineForm(FlaskForm):
    number = StringField(_l("Line number"), validators=[DataRequired(), Length(max=64)])


class RemoveLineForm(FlaskForm):
    number = HiddenField(validators=[DataRequired(), Length(max=64)])
