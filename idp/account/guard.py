"""The check in front of the email and login-method pages, in one place: a
signed-in person whom the manual's §0 table allows the item, who gave the
password within the last few minutes (the same rule as ``holder_settings``).

The account menu's own ``requires(item, reauthenticate=True)`` in
idp/account/views.py takes the place of this one when it is there; the
pages import ``requires`` from here only."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, redirect, request, url_for

from ..auth import sessions
from ..auth.proof import Proof
from ..tenants import permissions
from ..tenants.permissions import Item
from .views import REAUTH_AFTER, signed_in


def requires(item: Item, reauthenticate: bool = True) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The view gets the signed-in user; 403 if §0 does not allow ``item``."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        @signed_in
        def wrapper(proof: Proof, *args: Any, **kwargs: Any) -> Any:
            if not permissions.may(proof.user, item):
                abort(403)
            if reauthenticate and not sessions.proven_within(proof, REAUTH_AFTER):
                return redirect(url_for("account.reauthenticate", next=request.endpoint))
            return view(proof.user, *args, **kwargs)

        return wrapper

    return decorate
