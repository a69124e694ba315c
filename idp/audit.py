"""Audit events for what matters: sign-ins, failures, key and policy changes.

Each event names the client's address as the line gateway works it out
(behind trusted proxies, the client they forwarded for, not the proxy); a
sign-in event also names the gateway it came through and the registered line
the gateway vouched for.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from flask import current_app
from sqlalchemy import delete

from . import clock, db
from .models import AuditEvent, User
from .operations import metrics
from .operations.context import request_id

if TYPE_CHECKING:
    from .tenants.gateway import Origin

log = logging.getLogger("idp.audit")


def _origin() -> Origin:
    # Imported here: the gateway's line numbers record their own audit events.
    from .tenants.gateway import origin

    return origin()


def source_ip() -> str | None:
    return _origin().client


def _sign_in_detail(event: str) -> dict[str, str]:
    if not event.startswith("login."):
        return {}
    where = _origin()
    detail = {"gateway": where.peer} if where.via_gateway else {}
    if where.registered_line:
        detail["line_id"] = where.registered_line
    return detail


def record(
    event: str,
    *,
    user: User | None = None,
    tenant_id: str | None = None,
    client_id: str | None = None,
    **detail: Any,
) -> None:
    row = {
        "event": event,
        "user_id": user.id if user else None,
        "tenant_id": tenant_id or (user.tenant_id if user else None),
        "client_id": client_id,
        "source_ip": source_ip(),
        "detail": {**_sign_in_detail(event), **detail},
    }
    db.add_row(AuditEvent, **row)
    metrics.count_audit_event(event, row["detail"])
    audit = {name: row[name] for name in ("user_id", "tenant_id", "client_id", "source_ip", "detail")}
    log.info("%s", event, extra={"request_id": request_id(), "event": event, "audit": audit})


def purge_expired(now: datetime | None = None) -> int:
    """Remove the events older than ``audit.retention_days`` (0: keep all); how many went."""
    days = current_app.extensions["idp.settings"].audit_retention_days
    if not days:
        return 0
    cutoff = (now or clock.now()) - timedelta(days=days)
    gone = db.session().execute(
        delete(AuditEvent).where(AuditEvent.created_at < cutoff).execution_options(synchronize_session=False)
    )
    return gone.rowcount
