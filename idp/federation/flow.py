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
from collections.abc import Mapping
from dataclasses import asdict, dataclass

from flask import session, url_for

from .. import sealing
from ..auth import interactions
from ..hashing import new_token
from ..oidc.authorize import MAX_AGE
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


@dataclass(frozen=True)
class Asked:
    """What the page that sent the browser to sign in elsewhere asked for."""

    purpose: str
    ix: str | None = None
    link: str | None = None
    back: str | None = None
    # The relying party's prompt=login and max_age, or "login" when the account
    # must be the one signed in now rather than one the upstream remembers.
    prompt: str | None = None
    max_age: int | None = None


def asked(args: Mapping[str, str], invite: str) -> Asked:
    """From /login/<provider>'s query: ``register=<invite>`` finishes the invitation
    held in this session, ``reauth`` (with ``next``) gives the sign-in again,
    ``link`` is a login-method change; otherwise a sign-in, resuming ``interaction``."""
    if args.get("register") == invite:
        return Asked(REGISTER)
    if "reauth" in args:
        return Asked(REAUTH, back=args.get("next", "")[:512], prompt="login")
    if link := args.get("link"):
        return Asked(LINK, link=link[:64], prompt="login")
    ix = args.get("interaction") or None
    rp = (interactions.get(ix) or {}).get("args", {})
    prompt = "login" if "login" in str(rp.get("prompt", "")).split() else None
    max_age = int(rp["max_age"]) if MAX_AGE.fullmatch(str(rp.get("max_age", ""))) else None
    return Asked(LOGIN, ix=ix, prompt=prompt, max_age=max_age)


def _key(provider: str) -> str:
    return f"upstream_{provider}"


def begin(
    provider: str,
    purpose: str,
    ix: str | None = None,
    link: str | None = None,
    back: str | None = None,
    *,
    state: str | None = None,
    redirect_uri: str | None = None,
) -> Waiting:
    """``provider``: an upstream, or an AD connection id. ``state`` and
    ``redirect_uri``: where the protocol fixes them (a SAML request's ID, the ACS)."""
    pending = Pending(
        provider=provider,
        state=state or new_token(24),
        nonce=new_token(24),
        verifier=new_token(48),
        redirect_uri=redirect_uri or url_for("federation.callback", provider=provider, _external=True),
    )
    waiting = Waiting(pending, purpose, ix, link, back)
    value = {"pending": asdict(pending), "purpose": purpose, "ix": ix, "link": link, "back": back}
    session[_key(provider)] = sealing.seal(_key(provider), json.dumps(value))
    return waiting


def take(provider: str, state: str | None) -> Waiting | None:
    """The sign-in waiting in this browser for ``provider``'s answer carrying
    ``state``; gone afterwards whatever the answer."""
    waiting = _read(provider, session.pop(_key(provider), None))
    if waiting is None or not state or not hmac.compare_digest(waiting.pending.state.encode(), state.encode()):
        return None
    return waiting


def peek(provider: str) -> Waiting | None:
    """The sign-in waiting in this browser for ``provider``, left in place (a page
    of ours that may be filled in again, the LDAP password)."""
    return _read(provider, session.get(_key(provider)))


def _read(provider: str, sealed: str | None) -> Waiting | None:
    raw = sealing.unseal(_key(provider), sealed, TTL)
    if raw is None:
        return None
    value = json.loads(raw)
    pending = Pending(**value["pending"])
    if pending.provider != provider:
        return None
    return Waiting(pending, value["purpose"], value.get("ix"), value.get("link"), value.get("back"))
