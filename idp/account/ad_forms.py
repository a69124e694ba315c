"""Forms of the Active Directory setting page. Only the CSRF token and lengths
are checked here: the setup (idp/federation/ad_setup.py) checks the values,
so the page can say what to fix."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, PasswordField, StringField
from wtforms.validators import Length

from ..forms import Form


class AdMetadataForm(Form):
    # The file (``metadata_file``) is read from the upload itself, not through the form.
    metadata_url = StringField(_l("Federation metadata URL"), validators=[Length(max=1000)])
    stage = HiddenField(default="saml")


class AdLdapForm(Form):
    url = StringField(_l("LDAP server URL"), validators=[Length(max=1000)])
    base_dn = StringField(_l("Base DN"), validators=[Length(max=1000)])
    bind_dn = StringField(_l("Service account DN"), validators=[Length(max=1000)])
    bind_password = PasswordField(_l("Service account password"), validators=[Length(max=256)])
    user_attribute = StringField(_l("User name attribute"), default="sAMAccountName", validators=[Length(max=64)])
    plain = BooleanField(_l("Plain LDAP without TLS (only inside a trusted network)"))
    stage = HiddenField(default="ldap")
