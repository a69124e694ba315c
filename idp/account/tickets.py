"""The ticket of a mailed link, kept out of the address bar.

A mailed link carries its ticket in the query. The first GET moves it into the
session cookie, sealed, and redirects (303) to the bare page, so that the
ticket never sits in the address bar, the history, a Referer or an access log
line; the page then works only in that browser. Each purpose keeps its own."""

from __future__ import annotations

from flask import redirect, request, session, url_for
from werkzeug.wrappers import Response

from .. import sealing

MAX_LENGTH = 128


def _key(purpose: str) -> str:
    return f"{purpose}_ticket"


def take_from_query(purpose: str, endpoint: str) -> Response | None:
    """Keep a ticket from the query in the session; unless the form is posted,
    the redirect to the bare page of ``endpoint``."""
    if "ticket" not in request.args:
        return None
    ticket = request.args["ticket"][:MAX_LENGTH]
    session[_key(purpose)] = sealing.seal(_key(purpose), ticket)
    if request.method != "POST":
        return redirect(url_for(endpoint), 303)
    return None  # a form posted from a page opened before the ticket was moved


def held(purpose: str) -> str | None:
    """The ticket this browser holds for ``purpose``."""
    return sealing.unseal(_key(purpose), session.get(_key(purpose)))


def drop(purpose: str) -> None:
    session.pop(_key(purpose), None)
