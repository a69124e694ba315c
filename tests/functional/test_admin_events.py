"""The admin console's audit log: the tenant's own events, newest first, paged
by a cursor that cannot reach another tenant's; refused to plain users; and
the retention that removes events past audit.retention_days."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from idp import clock, db
from idp.models import AuditEvent, Tenant

from ..invite_steps import other_tenant
from ..line_steps import line_only_with
from ..mfa_steps import DEMO_ADMIN, add_admin, path_of, sign_in
from ..plan_steps import cli
from ..rp import DEMO_USER

OTHER_ADMIN = "kanri@other.example"


def _events(html: str) -> list[tuple[str, str]]:
    """(event, email) of each row shown."""
    return re.findall(r'<tr class="event" data-event="([^"]+)">.*?class="email">([^<]*)<', html, re.S)


def _add_events(live, tenant_name: str, count: int, event: str = "test.event") -> None:  # type: ignore[no-untyped-def]
    with live.app.app_context():
        tenant_id = db.session().scalar(select(Tenant.id).where(Tenant.name == tenant_name))
        start = clock.now() - timedelta(days=1)
        db.session().add_all(
            AuditEvent(event=f"{event}.{n}", tenant_id=tenant_id, created_at=start + timedelta(seconds=n))
            for n in range(count)
        )
        db.commit()


def test_admins_page_through_their_own_tenants_events(live) -> None:  # type: ignore[no-untyped-def]
    add_admin(live)
    other_tenant(live, people=((OTHER_ADMIN, "admin"),))
    _add_events(live, "demo", 120)
    _add_events(live, "other", 30, event="elsewhere")
    browser = live.browser()
    sign_in(browser, DEMO_ADMIN)

    first = browser.get("/admin/events")
    assert first.status_code == 200
    shown = _events(first.text)
    # Newest first: the admin's own sign-in, then the seeded events from the latest down.
    assert shown[0] == ("login.success", DEMO_ADMIN)
    assert [e for e, _ in shown[1:4]] == ["test.event.119", "test.event.118", "test.event.117"]
    seen = [e for e, _ in shown]
    page = first
    while (more := re.search(r'id="next-page" href="([^"]+)"', page.text)) is not None:
        page = browser.get(more.group(1).replace("&amp;", "&"))
        seen += [e for e, _ in _events(page.text)]
    assert sorted(e for e in seen if e.startswith("test.event.")) == sorted(f"test.event.{n}" for n in range(120))
    assert len(seen) == len(set(seen)) and not any(e.startswith("elsewhere") for e in seen)


def test_an_edited_cursor_shows_nothing_of_another_tenant(live) -> None:  # type: ignore[no-untyped-def]
    add_admin(live)
    other_tenant(live, people=((OTHER_ADMIN, "admin"),))
    _add_events(live, "other", 5, event="elsewhere")
    browser = live.browser()
    sign_in(browser, DEMO_ADMIN)
    for before in ("99999999999999999.ffffffff-ffff-ffff-ffff-ffffffffffff", "garbage", "1.x", "' OR 1=1 --"):
        page = browser.get("/admin/events", params={"before": before})
        assert page.status_code == 200
        assert not any(e.startswith("elsewhere") for e, _ in _events(page.text))


def test_plain_users_cannot_see_the_audit_log(live) -> None:  # type: ignore[no-untyped-def]
    browser = live.browser()
    sign_in(browser, DEMO_USER)
    assert browser.get("/admin/events").status_code == 403
    assert path_of(live.browser().get("/admin/events")) == "/login"  # signed out: to the login page


def test_events_past_their_retention_are_removed(live) -> None:  # type: ignore[no-untyped-def]
    with live.app.app_context():
        tenant_id = db.session().scalar(select(Tenant.id).where(Tenant.name == "demo"))
        days = live.settings.audit_retention_days
        db.session().add_all(
            [
                AuditEvent(event="old", tenant_id=tenant_id, created_at=clock.now() - timedelta(days=days + 1)),
                AuditEvent(event="kept", tenant_id=tenant_id, created_at=clock.now() - timedelta(days=days - 1)),
            ]
        )
        db.commit()
    result = cli(live, "tenant", "purge")
    assert result.exit_code == 0 and "removed 1 audit event(s) past their retention" in result.output
    with live.app.app_context():
        left = dict(
            db.session()
            .execute(
                select(AuditEvent.event, func.count())
                .where(AuditEvent.event.in_(["old", "kept"]))
                .group_by(AuditEvent.event)
            )
            .all()
        )
    assert left == {"kept": 1}


def test_an_admin_cookie_off_the_lines_of_a_line_only_tenant_reads_nothing(live) -> None:  # type: ignore[no-untyped-def]
    """Signed in before the tenant went line-only: the same cookie from the internet
    gets the line error, not the tenant's audit log."""
    add_admin(live)
    browser = live.browser()
    sign_in(browser, DEMO_ADMIN)
    assert browser.get("/admin/events").status_code == 200
    line_only_with(live)
    refused = browser.get("/admin/events")
    assert refused.status_code == 403 and 'id="line-error"' in refused.text
    assert not _events(refused.text)
