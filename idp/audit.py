"""Audit events for what matters: sign-ins, failures, key and policy changes."""

from __future__ import annotations

import logging
from typing import Any

from flask import has_request_context, request

from . import db
from .models import AuditEvent, User

log = logging.getLogger("idp.audit")


def source_ip() -> str | None:
    return request.remote_addr if has_request_context() else None


def record(
    event: str,
    *,
    user: User | None = None,
    tenant_id: str | None = None,
    client_id: str | None = None,
    **detail: Any,
) -> None:
    row = AuditEvent(
        event=event,
        user_id=user.id if user else None,
        tenant_id=tenant_id or (user.tenant_id if user else None),
        client_id=client_id,
        source_ip=source_ip(),
        detail=detail,
    )
    db.session().add(row)
    log.info("%s user=%s tenant=%s ip=%s %s", event, row.user_id, row.tenant_id, row.source_ip, detail)
