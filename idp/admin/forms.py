"""Forms of the admin console."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, StringField

from ..forms import Form


class LineForm(Form):
    """No field validators: lines.validate names every problem, an empty field
    included, so that the page can say why a number was refused."""

    number = StringField(_l("Line number"))


class RemoveLineForm(Form):
    """Posted to its own address, so it needs no prefix: its fields keep the
    plain names (``csrf_token``, ``number``) every form of the provider uses."""

    number = HiddenField()
