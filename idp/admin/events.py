"""The tenant's audit log in the admin console, newest first.

Keyset pagination on (created_at, id) over the index
``ix_audit_events_tenant_listing``: a page costs the same at the first event
as at the five-millionth, where OFFSET would read every row before it. The
cursor in the address names only a moment and an id; the tenant comes from
the signed-in administrator, so an edited cursor pages through nothing but
their own tenant's events."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import render_template, request
from sqlalchemy import select, tuple_

from .. import clock, db
from ..models import AuditEvent, User
from .views import administrator, bp

PAGE = 50
CURSOR = re.compile(r"(\d{1,16})\.([0-9a-f-]{36})")
# What an administrator is shown of an event's detail: how and why, never more.
SHOWN = ("method", "provider", "reason", "role", "line_id")


@dataclass(frozen=True)
class Row:
    at: str
    event: str
    email: str
    source_ip: str
    detail: str


def _cursor(value: str | None) -> tuple[datetime, str] | None:
    found = CURSOR.fullmatch(value or "")
    if found is None:
        return None
    return datetime.fromtimestamp(int(found.group(1)) / 1_000_000, UTC), found.group(2)


def _next_cursor(event: AuditEvent) -> str:
    return f"{int(event.created_at.timestamp() * 1_000_000)}.{event.id}"


def page_of(
    tenant_id: str, before: tuple[datetime, str] | None
) -> tuple[list[tuple[AuditEvent, str | None]], str | None]:
    """A page of the tenant's events (each with its person's email) and the cursor of the next."""
    query = (
        select(AuditEvent, User.email)
        .outerjoin(User, User.id == AuditEvent.user_id)
        .where(AuditEvent.tenant_id == tenant_id)
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(PAGE + 1)
    )
    if before is not None:
        query = query.where(tuple_(AuditEvent.created_at, AuditEvent.id) < tuple_(*before))
    found = [(event, email) for event, email in db.session().execute(query)]
    more = len(found) > PAGE
    found = found[:PAGE]
    return found, _next_cursor(found[-1][0]) if more else None


def _row(event: AuditEvent, email: str | None) -> Row:
    detail = " ".join(f"{k}={event.detail[k]}" for k in SHOWN if isinstance(event.detail, dict) and k in event.detail)
    return Row(
        clock.japan(event.created_at, "%Y/%m/%d %H:%M:%S"), event.event, email or "-", event.source_ip or "-", detail
    )


@bp.route("/events")
@administrator
def events(user: User) -> str:
    found, following = page_of(user.tenant_id, _cursor(request.args.get("before")))
    return render_template("admin/events.html", rows=[_row(e, m) for e, m in found], following=following)
