"""`idp client ...`: the operator registers, lists, shows, rotates and deletes
relying parties and machine clients. Exit 0 with the answer, or one line on
stderr and a non-zero exit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from flask import current_app

from . import audit
from .cli_support import OneLineGroup, transactional
from .oidc import client_admin, clients

DEFAULT_GRANTS = ("authorization_code", "refresh_token")


@click.group("client", cls=OneLineGroup)
def client_group() -> None:
    """Relying parties and machine clients."""


def _read_jwks(path: str | None) -> dict[str, Any] | None:
    """The JWK set in the file ``--jwks`` names (checked by the registration)."""
    if path is None:
        return None
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeError, ValueError) as err:
        raise ValueError(f"--jwks {path}: cannot read a JSON file ({type(err).__name__})") from None
    if not isinstance(data, dict):
        raise ValueError(f"--jwks {path}: must hold a JWK set")
    return data


@client_group.command("create")
@click.option("--name", required=True)
@click.option("--redirect-uri", "redirect_uris", multiple=True)
@click.option("--public", is_flag=True, help="a public client: no secret, PKCE required (auth method none)")
@click.option("--grant", "grants", multiple=True, type=click.Choice(clients.GRANT_TYPES))
@click.option("--auth-method", type=click.Choice(clients.AUTH_METHODS), help="default client_secret_basic")
@click.option("--jwks-uri", help="private_key_jwt: where the client publishes its public keys")
@click.option("--jwks", "jwks_file", metavar="FILE", help="private_key_jwt: a file with its public JWK set")
@click.option("--scope", help="space-separated scopes the client may ask for")
@click.option("--post-logout-redirect-uri", "post_logout_uris", multiple=True, help="default: the redirect URIs")
@transactional
def client_create(
    name: str,
    redirect_uris: tuple[str, ...],
    public: bool,
    grants: tuple[str, ...],
    auth_method: str | None,
    jwks_uri: str | None,
    jwks_file: str | None,
    scope: str | None,
    post_logout_uris: tuple[str, ...],
) -> None:
    """Register a client; prints client_id and, for confidential clients, the secret once.
    Redirect URIs follow the registration's rules (idp/oidc/clients.py)."""
    registration = clients.Registration(
        name=name,
        redirect_uris=list(redirect_uris),
        grant_types=list(grants or DEFAULT_GRANTS),
        public=public,
        post_logout_redirect_uris=list(post_logout_uris),
        auth_method=auth_method,
        jwks=_read_jwks(jwks_file),
        jwks_uri=jwks_uri,
    )
    if scope is not None:
        registration.scope = scope
    client, secret = clients.register(registration)
    audit.record("client.created", client_id=client.client_id, auth_method=client.token_endpoint_auth_method, via="cli")
    click.echo(f"client_id: {client.client_id}")
    if secret:
        click.echo(f"client_secret: {secret}")


@client_group.command("list")
@transactional
def client_list() -> None:
    """One line per client: client_id, name, auth method, grants."""
    for client in client_admin.all_clients():
        click.echo(client_admin.summary(client))


@client_group.command("show")
@click.argument("client_id", metavar="ID")
@transactional
def client_show(client_id: str) -> None:
    """Every setting of the client; never its secret."""
    for label, value in client_admin.details(client_admin.by_client_id(client_id)):
        click.echo(f"{label}: {value}")


@client_group.command("rotate-secret")
@click.argument("client_id", metavar="ID")
@click.option("--grace-hours", help="how long the current secret keeps working; default clients.secret_grace_hours")
@transactional
def client_rotate_secret(client_id: str, grace_hours: str | None) -> None:
    """Give the client a new secret, printed once; the current one keeps working for the grace."""
    grace = client_admin.grace_from(grace_hours, current_app.extensions["idp.settings"].client_secret_grace_hours)
    secret, until = client_admin.rotate_secret(client_admin.by_client_id(client_id), grace)
    click.echo(f"client_secret: {secret}")
    click.echo(f"previous secret accepted until: {until.isoformat(timespec='seconds')}")


@client_group.command("delete")
@click.argument("client_id", metavar="ID")
@transactional
def client_delete(client_id: str) -> None:
    """Delete the client: its grants, refresh and access tokens stop at their next use."""
    revoked = client_admin.delete(client_admin.by_client_id(client_id))
    click.echo(f"deleted {client_id}; {revoked} grant(s) revoked")
