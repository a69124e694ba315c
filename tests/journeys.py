"""Steps shared by the sign-in journeys: tenant policy, and reading what was sent."""

from __future__ import annotations

from sqlalchemy import select

from idp import db
from idp.models import Tenant
from idp.tenants import policy

from .conftest import Live


def set_tenant_mfa(live: Live, enabled: bool, tenant: str = "demo") -> None:
    with live.app.app_context():
        row = db.session().scalar(select(Tenant).where(Tenant.name == tenant))
        policy.set_mfa(row, enabled)
        db.commit()
