"""Line authentication as a claim-level policy.

A sign-in over a registered line records ``line_id`` on the browser session,
and from there on codes, grants and tokens. Whether that is enough is decided
again, from the recorded claim and the tenant as it is now, at every point a
session or token is used: so switching a tenant to line-only, or removing a
line, takes effect on the next use everywhere, without a restart.
"""

from __future__ import annotations

from ..models import AccessRoute, Role, Tenant, User
from . import gateway, lines


def line_of_request(user: User) -> str | None:
    """The line this request came over, if the gateway vouches for it and it is
    registered to the user's tenant; any other line counts as none. Read from
    the request's origin, so a sign-in looks the line up once."""
    where = gateway.origin()
    return where.line if user.tenant_id in where.line_tenants else None


def allows(tenant: Tenant, line_id: str | None) -> bool:
    """A line-only tenant admits only a registered line; others admit everyone."""
    if tenant.access_route != AccessRoute.LINE_ONLY:
        return True
    return lines.is_registered(tenant.id, line_id)


def admits_account_menu(user: User, line_id: str | None, amr: list[str]) -> bool:
    """The account menu follows the tenant's policy too, with one exception
    (manual §4.1): a holder locked out by a wrong line number signs in from the
    internet, with the second factor, to switch the route back."""
    if allows(user.tenant, line_id):
        return True
    return user.role == Role.HOLDER and "mfa" in amr
