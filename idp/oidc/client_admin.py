"""The operator's side of registered clients: look one up, describe it, rotate
its secret, delete it. Clients belong to the operator, not to a tenant, so
these are commands (idp/client_commands.py), not admin pages."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from .. import audit, clock, db
from ..hashing import digest, new_token
from ..models import Client
from . import store
from .clients import SECRET_METHODS

MAX_GRACE_HOURS = 24 * 30


def by_client_id(client_id: str) -> Client:
    client = db.session().scalar(select(Client).where(Client.client_id == client_id))
    if client is None:
        raise LookupError(f"no client with id {client_id!r}")
    return client


def all_clients() -> list[Client]:
    return list(db.session().scalars(select(Client).order_by(Client.name, Client.client_id)))


def summary(client: Client) -> str:
    """One line of ``idp client list``: client_id, name, auth method, grants."""
    return "\t".join((client.client_id, client.name, client.token_endpoint_auth_method, ",".join(client.grant_types)))


def _when(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment else "-"


def _keys(client: Client) -> str:
    if not client.jwks:
        return "-"
    return " ".join(f"{k.get('kid', '(no kid)')} ({k.get('kty')})" for k in client.jwks.get("keys", []))


def _secret_state(client: Client) -> str:
    if client.token_endpoint_auth_method not in SECRET_METHODS:
        return "none"
    return "set (shown only when created or rotated)"


def details(client: Client) -> list[tuple[str, str]]:
    """Every setting of ``idp client show``; never a secret or its digest."""
    previous_until = client.previous_secret_expires_at if client.previous_secret_hash else None
    if previous_until is not None and previous_until <= clock.now():
        previous_until = None
    return [
        ("client_id", client.client_id),
        ("name", client.name),
        ("auth method", client.token_endpoint_auth_method),
        ("public", "yes" if client.public else "no"),
        ("grants", " ".join(client.grant_types) or "-"),
        ("scope", client.scope),
        ("redirect URIs", " ".join(client.redirect_uris) or "-"),
        ("post-logout redirect URIs", " ".join(client.post_logout_redirect_uris) or "-"),
        ("jwks_uri", client.jwks_uri or "-"),
        ("jwks", _keys(client)),
        ("ID token alg", client.id_token_signed_response_alg or "RS256"),
        ("client secret", _secret_state(client)),
        ("previous secret accepted until", _when(previous_until)),
    ]


def grace_from(hours: str | None, default: int) -> timedelta:
    """``--grace-hours``: whole hours from 0 to 30 days; the setting when absent."""
    if hours is None:
        return timedelta(hours=default)
    if not hours.isascii() or not hours.isdigit() or int(hours) > MAX_GRACE_HOURS:
        raise ValueError(f"--grace-hours must be a whole number of hours from 0 to {MAX_GRACE_HOURS}")
    return timedelta(hours=int(hours))


def rotate_secret(client: Client, grace: timedelta) -> tuple[str, datetime]:
    """A new secret (returned once, stored as a digest); the current one stays
    valid for ``grace``. Only one previous secret is kept, so a second rotation
    within the grace drops the oldest at once."""
    if client.token_endpoint_auth_method not in SECRET_METHODS:
        raise ValueError(f"client {client.client_id!r} has no secret (auth method {client.token_endpoint_auth_method})")
    secret, until = new_token(32), clock.now() + grace
    client.previous_secret_hash, client.previous_secret_expires_at = client.secret_hash, until
    client.secret_hash = digest(secret)
    audit.record("client.secret_rotated", client_id=client.client_id, previous_valid_until=_when(until))
    return secret, until


def delete(client: Client) -> int:
    """Remove the client. Its grants are revoked and its codes dropped, so its
    refresh and access tokens fail at their next use; the number of grants."""
    revoked = store.end_client(client.client_id, "client_deleted")
    db.session().delete(client)
    audit.record("client.deleted", client_id=client.client_id, name=client.name, grants_revoked=revoked)
    return revoked
