"""What a sign-in at an upstream waits with, kept in this browser's session,
sealed (the browser can neither read nor alter it) and used once: the callback
takes it out before anything else, so a replayed or forged callback finds
nothing (and the upstream's code is single use besides).

``purpose``: a sign-in (``login``), finishing an invitation (``register``) or
a login-method change (``link``, with the nonce ``login_method.start_link``
gave), or giving the sign-in again before a sensitive setting (``reauth``,
with the page to go back to)."""

from __future__ import annotations

import hmac
import json
from dataclasses import asdict, dataclass

from flask import session, url_for

from .. import sealing
from ..hashing import new_token
from .broker import Pending

TTL = 15 * 60  # as long as a person may take at the upstream's pages
LOGIN, REGISTER, LINK, REAUTH = "login", "register", "link", "reauth"


@dataclass(frozen=True)
class Waiting:
    pending: Pending
    purpose: str
    ix: str | None = None  # the authorization request to resume after a sign-in
    link: str | None = None  # login_method's nonce for a link
    back: str | None = None  # the page a re-authentication returns to


def _key(provider: str) -> str:
    return f"upstream_{provider}"


def begin(
    provider: str, purpose: str, ix: str | None = None, link: str | None = None, back: str | None = None
) -> Waiting:
    pending = Pending(
        provider=provider,
        state=new_token(24),
        nonce=new_token(24),
        verifier=new_token(48),
        redirect_uri=url_for("federation.callback", provider=provider, _external=True),
    )
    waiting = Waiting(pending, purpose, ix, link, back)
    value = {"pending": asdict(pending), "purpose": purpose, "ix": ix, "link": link, "back": back}
    session[_key(provider)] = sealing.seal(_key(provider), json.dumps(value))
    return waiting


def take(provider: str, state: str | None) -> Waiting | None:
    """The sign-in waiting in this browser for ``provider``'s answer carrying
    ``state``; gone afterwards whatever the answer."""
    raw = sealing.unseal(_key(provider), session.pop(_key(provider), None), TTL)
    if raw is None or not state:
        return None
    value = json.loads(raw)
    pending = Pending(**value["pending"])
    if pending.provider != provider or not hmac.compare_digest(pending.state.encode(), state.encode()):
        return None
    return Waiting(pending, value["purpose"], value.get("ix"), value.get("link"), value.get("back"))
