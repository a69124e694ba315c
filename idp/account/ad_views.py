"""Active Directory setting (manual §0 「Active Directory設定」, the holder on the
basic plan or a trial): ADFS federation metadata as a file or a URL, or a
direct LDAP bind; and what the AD administrator needs: the connection id, the
SP metadata address and the ACS address. Asks for the password again after
a few minutes, like every setting that applies to the whole contract."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import FileStorage

from ..auth.proof import Proof
from ..federation import ad_setup, saml
from ..federation import directory as directories
from ..federation.saml import MetadataError
from ..forms import PAGE_EXPIRED
from ..tenants.permissions import Item
from .ad_forms import AdLdapForm, AdMetadataForm
from .views import requires

bp = Blueprint("account_ad", __name__, url_prefix="/account/ad")


@bp.url_value_preprocessor
def _room_for_metadata(endpoint: str | None, values: dict | None) -> None:
    """ADFS metadata runs to tens of kilobytes, past the hosted pages' 64 KiB:
    this page takes up to ``ad.metadata_max_bytes`` besides the form. Set here
    because URL preprocessors run before any before_request reads the body."""
    request.max_content_length = current_app.extensions["idp.settings"].ad_metadata_max_bytes + 64 * 1024


METADATA_ERRORS = {
    "too_big": _l("The metadata is too large."),
    "not_xml": _l("The file is not XML federation metadata."),
    "no_idp": _l("The metadata does not describe an identity provider (IDPSSODescriptor)."),
    "no_sso": _l("The metadata names no single sign-on address (SingleSignOnService)."),
    "no_cert": _l("The metadata has no signing certificate."),
    "bad_url": _l("The metadata URL must start with https:// or http://."),
    "unreachable": _l("The metadata could not be fetched from this URL."),
    "empty": _l("Choose the metadata file, or enter its URL."),
}
TOO_LONG = _l("An entry is too long.")
LDAP_ERRORS = {
    "url": _l("The LDAP server URL must start with ldaps:// or ldap://."),
    "base_dn": _l("Enter the base DN to search for users."),
    "user_attribute": _l("The user name attribute is not a valid attribute name."),
    "plain": _l("Plain LDAP is only for ldap:// addresses; ldaps:// always uses TLS."),
    "bind_dn": _l("The service account is not a distinguished name (or a user@domain name)."),
}


@bp.route("", methods=["GET", "POST"])
@requires(Item.ACTIVE_DIRECTORY, reauthenticate=True)
def settings(proof: Proof) -> str | tuple[str, int]:
    tenant = proof.user.tenant
    saml_form, ldap_form = AdMetadataForm(), AdLdapForm()
    error, saved, status = None, None, 200
    if request.method == "POST":
        form = ldap_form if request.form.get("stage") == "ldap" else saml_form
        if not form.validate():
            error, status = str(PAGE_EXPIRED) if form.csrf_token.errors else str(TOO_LONG), 400
        else:
            try:
                _, created = _save(proof, form)
                saved = "created" if created else "updated"
            except MetadataError as err:
                error, status = str(METADATA_ERRORS.get(err.reason, METADATA_ERRORS["not_xml"])), 400
            except ad_setup.LdapSettingsError as err:
                error, status = str(LDAP_ERRORS[err.reason]), 400
    directory = directories.of_tenant(tenant.id)
    if directory is not None and directory.kind == "ldap" and request.method == "GET":
        ldap_form = AdLdapForm(
            formdata=None,
            url=directory.ldap_url,
            base_dn=directory.ldap_base_dn,
            bind_dn=directory.ldap_bind_dn,
            user_attribute=directory.ldap_user_attribute,
            plain=directory.ldap_plain,
        )
    page = render_template(
        "account/ad.html",
        directory=directory,
        metadata_url=saml.entity_id(directory) if directory else None,
        acs_url=saml.acs_url(directory) if directory else None,
        saml_form=saml_form,
        ldap_form=ldap_form,
        error=error,
        saved=saved,
    )
    return page, status


def _save(proof: Proof, form: AdMetadataForm | AdLdapForm) -> tuple[object, bool]:
    tenant, actor = proof.user.tenant, proof.user
    if isinstance(form, AdLdapForm):
        return ad_setup.use_ldap(
            tenant,
            form.url.data or "",
            form.base_dn.data or "",
            form.bind_dn.data or "",
            form.bind_password.data or "",
            form.user_attribute.data or "",
            bool(form.plain.data),
            actor,
            via="account",
        )
    upload: FileStorage | None = request.files.get("metadata_file")
    data = upload.read() if upload is not None and upload.filename else None
    url = (form.metadata_url.data or "").strip() or None
    return ad_setup.use_metadata(tenant, None if url else data, url, actor, via="account")
