"""Demo data (CONTRACT.md): tenant ``demo``, its holder and a user, client ``demo-rp``."""

from __future__ import annotations

from sqlalchemy import select

from . import db
from .cli import add_user
from .models import Client, Role, Tenant, User
from .oidc import clients

PASSWORD = "Demo-pass-2026"
USERS = [("holder@demo.example", Role.HOLDER, "Demo Holder"), ("user@demo.example", Role.USER, "Demo User")]
CLIENT = clients.Registration(
    name="Demo relying party",
    client_id="demo-rp",
    secret="demo-rp-secret",
    redirect_uris=["http://127.0.0.1:8080/callback"],
    grant_types=["authorization_code", "refresh_token", "client_credentials"],
    scope="openid profile email offline_access",
)


def seed() -> list[str]:
    session = db.session()
    tenant = session.scalar(select(Tenant).where(Tenant.name == "demo"))
    if tenant is None:
        tenant = Tenant(name="demo", plan="basic", mfa_enabled=False)
        session.add(tenant)
        session.flush()
    for email, role, name in USERS:
        user = session.scalar(select(User).where(User.email_key == email))
        if user is None:
            add_user(email, tenant, role, PASSWORD).name = name
    if session.scalar(select(Client).where(Client.client_id == CLIENT.client_id)) is None:
        clients.register(CLIENT)
    return [
        f"tenant: demo ({tenant.id})",
        *(f"user: {email} / {PASSWORD} ({role})" for email, role, _ in USERS),
        f"client: {CLIENT.client_id} / {CLIENT.secret} redirect_uri {CLIENT.redirect_uris[0]}",
    ]
