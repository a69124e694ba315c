"""A sign-in with a tenant's Active Directory (manual §1.3): the connection id
remembered in this browser, the start at ADFS or at our LDAP page, and the
LDAP bind with the same failure counting as a password.

The connection id names the tenant's connection; it is not a secret (the
holder tells it to the tenant's people), but it cannot be guessed (18
alphanumerics) and a wrong one is answered alike whether or not it exists
for another tenant."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from .. import audit, db
from ..auth import login, sessions, throttle
from ..auth.login import Outcome
from ..models import Directory, DirectoryKind, IdentityKind, LoginIdentity, User, UserStatus
from . import directory as directories
from . import endings, flow, ldap, saml

METHOD = "ad"  # the login method's name (data-provider), whichever connection
COOKIE = "idp_ad"
COOKIE_AGE = 400 * 24 * 3600  # the longest a browser keeps a cookie (RFC 6265bis §5.5)


def _cookie() -> str:
    return sessions.host_cookie(COOKIE, current_app.extensions["idp.settings"].https)


def remembered() -> Directory | None:
    """The connection this browser used last, if it still exists."""
    return directories.by_connection_id(request.cookies.get(_cookie(), "")[:64])


def remember(response: Response, directory: Directory) -> Response:
    response.set_cookie(
        _cookie(),
        directory.connection_id,
        max_age=COOKIE_AGE,
        httponly=True,
        secure=current_app.extensions["idp.settings"].https,
        samesite="Lax",
        path="/",
    )
    return response


def connection(connection_id: str, tenant_id: str | None) -> Directory | None:
    """The connection ``connection_id`` names, if it is ``tenant_id``'s (when given)."""
    found = directories.by_connection_id(connection_id.strip())
    if found is None or (tenant_id is not None and found.tenant_id != tenant_id):
        return None
    return found


def of_user(user: User) -> Directory | None:
    """The connection ``user`` signs in through, for giving the sign-in again."""
    found = next((i for i in user.identities if i.kind == IdentityKind.AD), None)
    directory = directories.by_connection_id(found.provider) if found else None
    return directory if directory is not None and directory.tenant_id == user.tenant_id else None


def start(directory: Directory, wanted: flow.Asked) -> str:
    """Where the browser goes: ADFS with a signed AuthnRequest (its ID waits in
    this browser's session), or our LDAP page. BrokerError if the connection's
    metadata is unusable."""
    cid = directory.connection_id
    if directory.kind == DirectoryKind.SAML:
        force = wanted.prompt == "login" or wanted.max_age is not None
        url, request_id = saml.authn_request(directory, force)
        flow.begin(
            cid,
            wanted.purpose,
            wanted.ix,
            wanted.link,
            wanted.back,
            state=request_id,
            redirect_uri=saml.acs_url(directory),
        )
        return url
    page = url_for("ad.ldap_login", connection_id=cid)
    flow.begin(cid, wanted.purpose, wanted.ix, wanted.link, wanted.back, redirect_uri=page)
    return page


# -- LDAP -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bound:
    account: ldap.LdapAccount | None = None
    outcome: Outcome | None = None  # the login page's answers: wrong, locked, throttled
    failure: ldap.LdapFailure | None = None  # the directory itself failed
    detail: str = ""


def _person(directory: Directory, username: str) -> User | None:
    """Whose account lock a wrong password counts towards: the person linked to
    the UPN typed, or to the only UPN whose user part was typed (a sAMAccountName
    is usually the UPN's user part). Nobody when that is not one person."""
    typed = username.strip().lower()
    matches = list(
        db.session().scalars(
            select(User)
            .join(LoginIdentity)
            .where(
                LoginIdentity.kind == IdentityKind.AD,
                LoginIdentity.provider == directory.connection_id,
                (LoginIdentity.subject == typed) | LoginIdentity.subject.startswith(typed + "@", autoescape=True),
                User.tenant_id == directory.tenant_id,
            )
            .limit(2)
        )
    )
    return matches[0] if len(matches) == 1 else None


def _account_key(directory: Directory, username: str, person: User | None) -> str:
    """The failure counter: the person's own (shared with the password path), or
    one per typed name when the name is nobody's."""
    return person.email if person else f"ldap:{directory.connection_id}:{username.strip().lower()}"


def bind(directory: Directory, username: str, password: str) -> Bound:
    """The directory's bind, counted like a password sign-in (``auth/login``):
    the source throttle first, a wrong password towards the person's lock, the
    lock told only after a right password."""
    source = throttle.source()
    person = _person(directory, username)
    counter = _account_key(directory, username, person)
    standing = throttle.standing(source, counter)
    where = {"method": "ldap", "provider": directory.connection_id}
    if standing.source_blocked:
        audit.record("login.throttled", **where)
        return Bound(outcome=Outcome.THROTTLED)
    try:
        account = ldap.authenticate(directory, username, password)
    except ldap.LdapError as err:
        if err.failure == ldap.LdapFailure.CREDENTIALS:
            counted = login.count_failure(source, throttle.email_key(counter), person, "bad_credentials", "ldap")
            return Bound(outcome=counted.outcome)
        return Bound(failure=err.failure, detail=f"{err.failure.value}: {err.detail}"[:200])
    linked = endings.linked_user(IdentityKind.AD, directory.connection_id, account.upn.lower(), directory.tenant_id)
    if linked is not None and (
        linked.status == UserStatus.LOCKED or throttle.standing(source, linked.email).email_locked
    ):
        audit.record("login.failure", user=linked, reason="locked", **where)
        return Bound(outcome=Outcome.LOCKED)
    if linked is not None:
        throttle.clear(throttle.email_key(linked.email))
    return Bound(account=account)
