"""The broker interface: one per upstream, whatever its protocol.

``start`` gives the address at the upstream that the browser goes to;
``finish`` turns the upstream's answer at our callback into a verified
``Identity``, or raises ``BrokerError`` saying what went wrong. A person is
found by (provider, subject) only; the email is shown, never trusted to link.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from flask import current_app
from flask_babel import lazy_gettext as _l

from ..config import FACEBOOK, Upstream

# In the manual's order (§1.2).
LABELS = {
    "google": _l("Google account"),
    "facebook": _l("Facebook account"),
    "microsoft": _l("Microsoft account"),
    "daccount": _l("d ACCOUNT"),
    "nttbizid": _l("NTT East Business ID"),
}

# Connect 3 s, read 10 s: an upstream that is down or slow becomes a page, not a hang.
TIMEOUT = (3, 10)


class Failure(StrEnum):
    DENIED = "denied"  # the person cancelled at the upstream (access_denied)
    STATE = "state"  # no sign-in waits in this browser for this answer (forged, replayed, too old)
    MIXUP = "mixup"  # RFC 9207: the answer names another issuer
    UPSTREAM = "upstream"  # the upstream answered with another error
    TOKEN = "token"  # the code was refused at the token endpoint
    ID_TOKEN = "id_token"  # signature, iss, aud, exp/iat or nonce wrong
    UNAVAILABLE = "unavailable"  # the upstream is down, slow or answers nonsense
    ASSERTION = "assertion"  # a SAML answer that does not verify (signature, audience, destination, times)
    REPLAY = "replay"  # a SAML assertion that was used already
    CONNECTION = "connection"  # no Active Directory connection of that id, or not of that kind


class BrokerError(Exception):
    def __init__(self, failure: Failure, detail: str = "") -> None:
        super().__init__(f"{failure.value}: {detail}")
        self.failure = failure
        self.detail = detail


@dataclass(frozen=True)
class Identity:
    provider: str
    subject: str
    email: str | None
    name: str | None
    # What the upstream says it checked (RFC 8176), as it said it.
    amr: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Pending:
    """What one sign-in at an upstream waits with (kept sealed by ``flow``)."""

    provider: str
    state: str
    nonce: str
    verifier: str
    redirect_uri: str


class Broker(Protocol):
    provider: str

    def start(self, pending: Pending, prompt: str | None, max_age: int | None) -> str: ...

    def finish(self, pending: Pending, answer: dict[str, str]) -> Identity: ...


def configured(provider: str) -> Upstream | None:
    return current_app.extensions["idp.settings"].upstream(provider)


def label(provider: str) -> str:
    return str(LABELS.get(provider, provider))


def offered() -> list[tuple[str, str]]:
    """The configured upstreams, for the login page's buttons."""
    return [(provider, label(provider)) for provider in LABELS if configured(provider) is not None]


def broker_for(provider: str) -> Broker | None:
    """The broker of ``provider``, or None when it is not configured (off)."""
    upstream = configured(provider)
    if upstream is None:
        return None
    from .facebook import FacebookBroker
    from .oidc import OidcBroker

    return FacebookBroker(upstream) if provider == FACEBOOK else OidcBroker(upstream)


def answer_error(answer: dict[str, str]) -> None:
    """The upstream's error in the callback (RFC 6749 §4.1.2.1), if any."""
    if error := answer.get("error"):
        failure = Failure.DENIED if error == "access_denied" else Failure.UPSTREAM
        raise BrokerError(failure, error[:64])
    if not answer.get("code"):
        raise BrokerError(Failure.UPSTREAM, "no code")
