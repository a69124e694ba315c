"""Forms of the Active Directory sign-in pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from ..forms import Form


class ConnectionForm(Form):
    """接続ID: typed at the login, confirmed when registering or changing the method.
    Only the CSRF token and the length are checked here: an unknown id gets the
    page's own message."""

    connection_id = StringField(_l("Connection ID"), validators=[Length(max=64)])


class LdapForm(Form):
    # The same upper bound as the login form's password.
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=256)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])
