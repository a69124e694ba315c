"""Forms of the admin console."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, RadioField, StringField
from wtforms.fields.choices import SelectChoice

from ..forms import Form


class LineForm(Form):
    """No field validators: lines.validate names every problem, an empty field
    included, so that the page can say why a number was refused."""

    number = StringField(_l("Line number"))


class RemoveLineForm(Form):
    """Posted to its own address, so it needs no prefix: its fields keep the
    plain names (``csrf_token``, ``number``) every form of the provider uses."""

    number = HiddenField()


class InviteForm(Form):
    """Plain names (CONTRACT.md): ``email``, ``name``, ``role``. No field
    validators: the invitation names what is wrong (registration.Refusal)."""

    email = StringField(_l("Email address"))
    name = StringField(_l("Name"))
    role = RadioField(
        choices=[SelectChoice("user", _l("User")), SelectChoice("admin", _l("Administrator"))],
        default="user",
        validate_choice=False,
    )


class UserActionForm(Form):
    """An action on one user. ``stage`` is "confirm" once the confirmation page
    was shown; ``role`` is the new role of a role change."""

    stage = HiddenField(default="ask")
    role = HiddenField()
