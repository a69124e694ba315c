"""Line authentication as a claim-level policy.

A sign-in over a registered line records ``line_id`` on the browser session,
and from there on codes, grants and tokens. Whether that is enough is decided
again, from the recorded claim and the tenant as it is now, at every point a
session or token is used: so switching a tenant to line-only, or removing a
line, takes effect on the next use everywhere, without a restart.
"""

from __future__ import annotations

from datetime import datetime

from ..mfa import enrolment
from ..models import AccessRoute, MfaEnrolment, Role, Tenant, User
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


def factor_may_undo_line_only(tenant: Tenant, factor: MfaEnrolment | None) -> bool:
    """Whether proving ``factor`` (or its recovery code) from the internet may
    change a line-only tenant's settings (manual §4.2, the holder locked out by
    a wrong line number).

    Only a factor that someone who learnt the password, or took over the
    mailbox, cannot have made qualifies: one confirmed before the tenant became
    line-only, or one enrolled over a registered line. A factor enrolled from the internet since
    then (in the recovery sign-in itself, or after a password reset cleared the
    old one) never does; without a qualifying factor the way back is a
    registered line or the operator (``idp tenant set T --access-route ...``).
    """
    if factor is None or factor.confirmed_at is None:
        return False
    if factor.line_id is not None:
        return True
    since = tenant.line_only_since
    return since is not None and factor.confirmed_at < since


def admits_account_menu(user: User, line_id: str | None, amr: list[str], auth_time: datetime) -> bool:
    """The account menu follows the tenant's policy too, with one exception
    (manual §4.2): a holder locked out by a wrong line number signs in from the
    internet, with a second factor that may undo line-only, to switch the route
    back. The session must have proven that very factor: one confirmed no later
    than the sign-in, with ``mfa`` among the methods."""
    if allows(user.tenant, line_id):
        return True
    if user.role != Role.HOLDER or "mfa" not in amr:
        return False
    factor = enrolment.confirmed(user)
    if factor is None or factor.confirmed_at is None or factor.confirmed_at > auth_time:
        return False
    return factor_may_undo_line_only(user.tenant, factor)
