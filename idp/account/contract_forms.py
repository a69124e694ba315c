"""Forms of the contract pages (契約情報の変更): plan change, cancellation, contract details."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired

from ..forms import Form
from ..models import Plan


class PlanForm(Form):
    # A trial becomes basic; there is no other change (manual §0 ※1).
    plan = RadioField(choices=[SelectChoice(Plan.BASIC.value, _l("Basic plan"))], validators=[DataRequired()])
    # "choose" on the first page, "confirm" on the confirmation page.
    stage = HiddenField(default="choose")


class CancelForm(Form):
    confirmed = BooleanField(_l("I have read the explanation above."))


class ContractForm(Form):
    """No validators here: ``tenants.details`` checks every field, and the page
    words each problem (requests are at most 64 KiB: MAX_CONTENT_LENGTH)."""

    company_name = StringField(_l("Company name"))
    contact_name = StringField(_l("Contact person"))
    contact_phone = StringField(_l("Phone number"))
