"""Storage: one module per aggregate, all on one declarative base."""

from .base import Base, utcnow
from .client import Client
from .directory import UPN_CLAIM, Directory, DirectoryKind, SeenAssertion
from .event import AuditEvent
from .link import OneTimeLink
from .mfa import MfaEnrolment, SmsCode
from .oauth import AuthorizationCode, Grant, RefreshToken, RevokedJti
from .session import BrowserSession, RememberedBrowser
from .tenant import AccessRoute, Plan, Tenant, TenantLine
from .throttle import RateLimit, SignInFailures
from .user import IdentityKind, LoginIdentity, Role, User, UserStatus

__all__ = [
    "AccessRoute",
    "AuditEvent",
    "AuthorizationCode",
    "Base",
    "BrowserSession",
    "Client",
    "Directory",
    "DirectoryKind",
    "Grant",
    "IdentityKind",
    "LoginIdentity",
    "MfaEnrolment",
    "OneTimeLink",
    "Plan",
    "RateLimit",
    "RefreshToken",
    "RememberedBrowser",
    "RevokedJti",
    "SeenAssertion",
    "SignInFailures",
    "Role",
    "SmsCode",
    "Tenant",
    "TenantLine",
    "UPN_CLAIM",
    "User",
    "UserStatus",
    "utcnow",
]
