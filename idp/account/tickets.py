"""The ticket of a mailed link, kept out of the address bar.

A mailed link (reset, unlock, invitation) carries its ticket in the query. The
first GET moves it into the session cookie, sealed, and redirects to the bare
page, so that the ticket never sits in the address bar, the history, a
Referer or an access log line; the page then works only in that browser."""

from __future__ import annotations

from flask import redirect, request, session, url_for
from werkzeug.wrappers import Response

from .. import sealing
from ..models import User
from . import links


def _session_key(purpose: str) -> str:
    return f"{purpose}_ticket"


def take_from_query(purpose: str, endpoint: str) -> Response | None:
    """Keep a ticket from the query in the session; unless the form is posted,
    redirect to the bare page."""
    if "ticket" not in request.args:
        return None
    ticket = request.args["ticket"][:128]
    session[_session_key(purpose)] = sealing.seal(_session_key(purpose), ticket)
    if request.method != "POST":
        return redirect(url_for(endpoint), 303)
    return None  # a form posted from a page opened before the ticket was moved


def held(purpose: str) -> str | None:
    return sealing.unseal(_session_key(purpose), session.get(_session_key(purpose)))


def drop(purpose: str) -> None:
    session.pop(_session_key(purpose), None)


def link_user(purpose: str, endpoint: str) -> Response | User | None:
    """The redirect that moves a ticket out of the URL, or the user of the held link."""
    moved = take_from_query(purpose, endpoint)
    if moved is not None:
        return moved
    return links.peek(purpose, held(purpose))
