"""Changing a tenant's two-step policy and access route, with the same rules and
audit events from the account menu and from `idp tenant set`."""

from __future__ import annotations

from ..audit import record
from ..models import AccessRoute, Plan, Role, Tenant, User


class PolicyError(ValueError):
    """A change the rules do not allow; the message says why."""


def may_manage_security(user: User) -> bool:
    """Manual §0: the holder, on the basic plan or a trial, sets two-step
    verification and the access route; nobody else does."""
    return user.role == Role.HOLDER and user.tenant.plan in (Plan.BASIC, Plan.TRIAL)


def set_mfa(tenant: Tenant, enabled: bool, actor: User | None = None, via: str = "account_menu") -> bool:
    """Turn two-step verification on or off; returns whether anything changed."""
    if enabled and tenant.access_route == AccessRoute.LINE_ONLY:
        raise PolicyError("two-step verification stays off while the access route is line-only")
    if tenant.mfa_enabled == enabled:
        return False
    tenant.mfa_enabled = enabled
    record("tenant.mfa_changed", user=actor, tenant_id=tenant.id, enabled=enabled, via=via)
    return True


def set_access_route(tenant: Tenant, route: str, actor: User | None = None, via: str = "account_menu") -> bool:
    if route not in (AccessRoute.LINE_AND_INTERNET, AccessRoute.LINE_ONLY):
        raise PolicyError(f"unknown access route {route!r}")
    if tenant.access_route == route:
        return False
    tenant.access_route = route
    record("tenant.access_route_changed", user=actor, tenant_id=tenant.id, route=route, via=via)
    if route == AccessRoute.LINE_ONLY and tenant.mfa_enabled:
        # Manual §5.1: line-only switches two-step verification off; a change
        # of its own, audited as one.
        tenant.mfa_enabled = False
        record("tenant.mfa_changed", user=actor, tenant_id=tenant.id, enabled=False, via=via, reason=route)
    return True
