"""Forms of the account pages and the password rule's messages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from ..auth.password_policy import Rule
from ..forms import Form

RULE_TEXT = {
    Rule.TOO_SHORT: _l("Use at least 8 characters."),
    Rule.TOO_LONG: _l("Use at most 128 characters."),
    Rule.TOO_FEW_KINDS: _l("Use at least three of: upper-case letters, lower-case letters, digits and symbols."),
    Rule.IS_EMAIL: _l("The password must not be your email address."),
    Rule.TOO_COMMON: _l("This password is too common. Choose one that is harder to guess."),
    Rule.MISMATCH: _l("The two passwords do not match."),
}


class ForgotPasswordForm(Form):
    email = EmailField(_l("Email address"), validators=[DataRequired(), Length(max=254)])


class NewPasswordForm(Form):
    """No field validators: the password rule (broken_rules) names every problem,
    an empty field included, so that the page can say which rule to fix."""

    password = PasswordField(_l("New password"))
    password_confirm = PasswordField(_l("New password (again)"))


class ChangePasswordForm(NewPasswordForm):
    """Manual §3. The current password is a sign-in like any other (the same upper
    bound as the login form: argon2id is not fed megabytes)."""

    current_password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=256)])


class ConfirmForm(Form):
    pass


class MfaPolicyForm(Form):
    mfa = RadioField(
        choices=[
            SelectChoice("on", _l("Turn two-step verification on")),
            SelectChoice("off", _l("Turn two-step verification off")),
        ],
        validators=[DataRequired()],
    )
    # "choose" on the first page, "confirm" on the confirmation page.
    stage = HiddenField(default="choose")
    confirmed = BooleanField(_l("I have read the explanation above."))


class AccessRouteForm(Form):
    route = RadioField(
        choices=[
            SelectChoice("line+internet", _l("Line authentication + internet")),
            SelectChoice("line-only", _l("Line authentication only")),
        ],
        validators=[DataRequired()],
    )
    stage = HiddenField(default="choose")


class ResetKeepsTwoStepForm(Form):
    """The holder's choice whether a password reset keeps the second factor."""

    reset_keeps_two_step = BooleanField(_l("Keep two-step verification when a password is reset"))
    stage = HiddenField(default="reset")


class ReauthenticateForm(Form):
    # The same upper bound as the login form: argon2id is not fed megabytes.
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])
