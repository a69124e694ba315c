"""The browser's session at the provider (single sign-on).

The cookie holds a random token; the database holds its digest, what was
proven and when. A session dies when it expires, when it goes unused for
``session.idle_minutes``, when the user signs out, or when the user's
credentials change (security stamp).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Response, current_app, g, request
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm.attributes import set_committed_value

from .. import clock, db
from ..hashing import digest, new_token
from ..models import BrowserSession, Grant, User, UserStatus
from ..models.base import new_id
from ..oidc import store
from ..tenants import admission
from .proof import Proof


def _settings():  # type: ignore[no-untyped-def]
    return current_app.extensions["idp.settings"]


HOST_PREFIX = "__Host-"


def host_cookie(name: str, https: bool) -> str:
    """The name of a cookie of ours. Over https it carries the ``__Host-``
    prefix (RFC 6265bis §4.1.3.2): browsers keep such a cookie only if it is
    Secure, has Path=/ and no Domain, so no other host of the domain and no
    plain-http page can set or shadow it. Over http (development) a browser
    would refuse it."""
    return HOST_PREFIX + name if https else name


def _cookie() -> str:
    settings = _settings()
    return host_cookie(settings.session_cookie, settings.https)


def current() -> Proof | None:
    """What this browser's session proves, or None. A session whose tenant is
    out of service (a trial that ended, a cancelled contract) counts as none
    from its next use on, except on the plan change its holder may still make
    (``admission.admits_session``)."""
    proof = _recorded()
    if proof is None or admission.admits_session(proof.user, request.endpoint):
        return proof
    return None


def _recorded() -> Proof | None:
    """The session as recorded, whatever its tenant's standing."""
    if "idp_proof" in g:
        return g.idp_proof
    g.idp_proof = _load(request.cookies.get(_cookie()))
    return g.idp_proof


# How stale last_seen_at may get before a use is written: a request that
# reads the session writes it at most once a minute.
SEEN_PRECISION = timedelta(minutes=1)


def _load(token: str | None) -> Proof | None:
    if not token or len(token) > 128:
        return None
    row = db.session().scalar(select(BrowserSession).where(BrowserSession.token_hash == digest(token)))
    now = clock.now()
    if row is None or row.revoked_at is not None or row.expires_at <= now or _idle(row, now):
        return None
    user: User = row.user
    if user.status != UserStatus.ACTIVE or user.security_stamp != row.security_stamp:
        return None
    _seen(row, now)
    return Proof(user=user, auth_time=row.auth_time, amr=list(row.amr), line_id=row.line_id, session_id=row.id)


def _idle(row: BrowserSession, now: datetime) -> bool:
    return now - row.last_seen_at > timedelta(minutes=_settings().session_idle_minutes)


def _seen(row: BrowserSession, now: datetime) -> None:
    """Record a use; at most once a minute, so most requests write nothing."""
    if now - row.last_seen_at < SEEN_PRECISION:
        return
    db.session().execute(
        update(BrowserSession)
        .where(BrowserSession.id == row.id, BrowserSession.last_seen_at < now - SEEN_PRECISION)
        .values(last_seen_at=now)
        .execution_options(synchronize_session=False)
    )


def start(user: User, amr: list[str], line_id: str | None = None, auth_time: datetime | None = None) -> Proof:
    """A new session for a completed sign-in; replaces any session this browser had.
    ``auth_time`` carries an earlier sign-in over into the new session (after the
    user's credentials changed): what it proved, when, and its lifetime."""
    end_current()
    now, token = clock.now(), new_token(32)
    if auth_time is None:
        auth_time = now
        _note_sign_in(user, now)
    session_id = new_id()
    db.add_row(
        BrowserSession,
        id=session_id,
        token_hash=digest(token),
        user_id=user.id,
        auth_time=auth_time,
        amr=amr,
        line_id=line_id,
        security_stamp=user.security_stamp,
        last_seen_at=now,
        expires_at=auth_time + timedelta(seconds=_settings().session_lifetime),
    )
    g.idp_set_cookie = token
    g.idp_proof = Proof(user=user, auth_time=auth_time, amr=amr, line_id=line_id, session_id=session_id)
    return g.idp_proof


_USERS = User.__table__.c
_SIGNED_IN = (
    update(User.__table__)
    .where(_USERS.id == bindparam("user"))
    .values(last_login_at=bindparam("at", type_=_USERS.last_login_at.type))
)


def _note_sign_in(user: User, now: datetime) -> None:
    """The admin console's user list shows when each person last signed in. One
    UPDATE of that column: the loaded row marked changed would cost a flush of
    the ORM's unit of work, dearer than the statement."""
    db.run(_SIGNED_IN, {"user": user.id, "at": now})
    set_committed_value(user, "last_login_at", now)


def end_current() -> None:
    """Sign this browser out, and revoke what was granted through the session
    except grants for ``offline_access``, which outlive it by definition."""
    proof = _recorded()
    g.idp_proof = None
    if request.cookies.get(_cookie()):
        g.idp_set_cookie = ""
    if proof is None or proof.session_id is None:
        return
    db.session().execute(
        update(BrowserSession)
        .where(BrowserSession.id == proof.session_id)
        .values(revoked_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    grants = db.session().scalars(
        select(Grant).where(Grant.browser_session_id == proof.session_id, Grant.revoked_at.is_(None))
    )
    for grant in grants:
        if "offline_access" not in grant.scope.split():
            store.revoke_grant(grant.id, "logout")


def write_cookie(response: Response) -> Response:
    """after_request: set or clear the session cookie decided during the request."""
    token = g.pop("idp_set_cookie", None)
    if token is None:
        return response
    settings = _settings()
    if token:
        response.set_cookie(
            _cookie(),
            token,
            max_age=settings.session_lifetime,
            httponly=True,
            secure=settings.https,
            samesite="Lax",
            path="/",
        )
    else:
        response.delete_cookie(_cookie(), path="/", httponly=True, secure=settings.https, samesite="Lax")
    return response


# -- giving the password again for a sensitive setting ---------------------------


# A change that matters beyond the person (two-step, access route, email, login
# method, plan, the admin console's actions) asks for the password again once
# it was given longer ago than this.
RECENT = timedelta(minutes=5)


def proven_recently(proof: Proof) -> bool:
    return proven_within(proof, RECENT)


def proven_within(proof: Proof, window: timedelta) -> bool:
    """Whether this session's password was given (at sign-in, or again since) within ``window``."""
    again = db.session().scalar(select(BrowserSession.reauthenticated_at).where(BrowserSession.id == proof.session_id))
    latest = max(proof.auth_time, again) if again else proof.auth_time
    return clock.now() - latest <= window


def reauthenticated(proof: Proof) -> None:
    """Record that the password was just given again in this session."""
    db.session().execute(
        update(BrowserSession)
        .where(BrowserSession.id == proof.session_id)
        .values(reauthenticated_at=clock.now())
        .execution_options(synchronize_session=False)
    )
