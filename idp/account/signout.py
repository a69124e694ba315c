"""Ending everything a user's old credentials opened, after they changed."""

from __future__ import annotations

import secrets

from sqlalchemy import select

from .. import db
from ..auth import remember
from ..models import Grant, User
from ..oidc import store


def everywhere(user: User, reason: str) -> None:
    """A new security stamp ends every browser session and every link sent
    before; remembered browsers stop skipping the second step; tokens granted
    before stop working at their next use."""
    user.security_stamp = secrets.token_hex(16)
    remember.forget_all(user)
    for grant_id in db.session().scalars(select(Grant.id).where(Grant.user_id == user.id, Grant.revoked_at.is_(None))):
        store.revoke_grant(grant_id, reason)
