"""Changing a tenant's two-step policy and access route, with the same rules,
audit events and notices from the account menu and from `idp tenant set`."""

from __future__ import annotations

from .. import clock
from ..audit import record
from ..models import AccessRoute, Tenant, User
from . import notices

ROUTE_SUBJECT = "【ワークストレージ】アクセス経路設定変更のお知らせ"
TWO_STEP_SUBJECT = "【ワークストレージ】2段階認証設定変更のお知らせ"


class PolicyError(ValueError):
    """A change the rules do not allow; the message says why."""


def set_mfa(tenant: Tenant, enabled: bool, actor: User | None = None, via: str = "account_menu") -> bool:
    """Turn two-step verification on or off; returns whether anything changed."""
    if enabled and tenant.access_route == AccessRoute.LINE_ONLY:
        raise PolicyError("two-step verification stays off while the access route is line-only")
    if tenant.mfa_enabled == enabled:
        return False
    _change_mfa(tenant, enabled, actor, via)
    _tell(tenant, TWO_STEP_SUBJECT, "two_step_changed", actor, via, setting="mfa", enabled=enabled)
    return True


def set_reset_keeps_two_step(tenant: Tenant, value: bool, actor: User | None = None, via: str = "account_menu") -> bool:
    """Whether a password reset keeps the second factor (manual §6.2 clears it by
    default); returns whether anything changed."""
    if tenant.reset_keeps_two_step == value:
        return False
    tenant.reset_keeps_two_step = value
    record("tenant.reset_keeps_two_step_changed", user=actor, tenant_id=tenant.id, enabled=value, via=via)
    _tell(tenant, TWO_STEP_SUBJECT, "two_step_changed", actor, via, setting="reset_keeps_two_step", enabled=value)
    return True


def set_access_route(tenant: Tenant, route: str, actor: User | None = None, via: str = "account_menu") -> bool:
    """Change the access route; returns whether anything changed.

    Manual §5.1: line-only switches two-step verification off. What it was is
    kept, with the moment of the switch (which decides which second factors may
    undo line-only from the internet, see ``line_policy``); leaving line-only
    puts two-step verification back as it was (on when unknown), so that it is
    never left off without anyone having chosen so.
    """
    if route not in (AccessRoute.LINE_AND_INTERNET, AccessRoute.LINE_ONLY):
        raise PolicyError(f"unknown access route {route!r}")
    if tenant.access_route == route:
        return False
    previous = tenant.access_route
    tenant.access_route = route
    record("tenant.access_route_changed", user=actor, tenant_id=tenant.id, route=route, via=via)
    if route == AccessRoute.LINE_ONLY:
        tenant.line_only_since = clock.now()
        tenant.mfa_before_line_only = tenant.mfa_enabled
        wanted = False
    else:
        wanted = tenant.mfa_before_line_only is not False
        tenant.line_only_since = None
        tenant.mfa_before_line_only = None
    if tenant.mfa_enabled != wanted:
        # A change of its own, audited as one.
        _change_mfa(tenant, wanted, actor, via, reason=route)
    _tell(tenant, ROUTE_SUBJECT, "access_route_changed", actor, via, previous=previous, route=route)
    return True


def _change_mfa(tenant: Tenant, enabled: bool, actor: User | None, via: str, **detail: str) -> None:
    tenant.mfa_enabled = enabled
    record("tenant.mfa_changed", user=actor, tenant_id=tenant.id, enabled=enabled, via=via, **detail)


def _tell(tenant: Tenant, subject: str, template: str, actor: User | None, via: str, **context: object) -> None:
    notices.tell_managers_of_change(tenant, subject, template, actor, via, mfa_enabled=tenant.mfa_enabled, **context)
