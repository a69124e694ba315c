"""The ways a person can sign in, as offered on the registration and
login-method pages (manual §1.5, §2): email and password today; upstream
accounts and Active Directory register here when they are configured, so
those pages list whatever is on offer without knowing each method.

Each choice carries ``data-provider`` (CONTRACT.md): ``password``, ``google``,
``facebook``, ``microsoft``, ``daccount``, ``nttbizid`` or ``ad``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from ..models import IdentityKind, Role, Tenant, User


@dataclass(frozen=True)
class Method:
    provider: str
    label: str
    # Whether the method is on offer for this tenant and role (e.g. AD only when
    # the tenant has it, never for the holder).
    offered: Callable[[Tenant, str], bool]


PASSWORD = Method("password", _l("Email address and password"), lambda tenant, role: True)
_METHODS: list[Method] = [PASSWORD]


def register(method: Method) -> None:
    """Offer another method (called by the upstream and Active Directory brokers)."""
    if all(m.provider != method.provider for m in _METHODS):
        _METHODS.append(method)


def offered(tenant: Tenant, role: str = Role.USER) -> list[Method]:
    return [m for m in _METHODS if m.offered(tenant, role)]


def current(user: User) -> str:
    """The provider of the method ``user`` signs in with ("password" when none is set yet)."""
    kinds = {i.kind: i for i in user.identities}
    if IdentityKind.PASSWORD in kinds or not kinds:
        return PASSWORD.provider
    identity = next(iter(kinds.values()))
    if identity.kind == IdentityKind.AD:
        return "ad"  # whichever connection: its provider is the tenant's connection id
    return identity.provider or identity.kind
