"""`idp tenant create --plan trial`, `show`, `plan`, `cancel` and `purge` through the
installed console script, as an operator runs them: exit 0 and the answer, or
a non-zero exit with one line on stderr."""

from __future__ import annotations

import subprocess
from datetime import timedelta

from sqlalchemy import update

from idp import clock, db
from idp.models import Tenant

from ..conftest import Live
from ..console import idp
from ..mfa_steps import audit_events
from ..plan_steps import tenant_named

HOLDER = "holder@acme.example"


def _idp(live: Live, *args: str) -> subprocess.CompletedProcess[str]:
    return idp(live.settings, *args)


def _ok(live: Live, *args: str) -> str:
    done = _idp(live, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _refused(live: Live, *args: str) -> str:
    done = _idp(live, *args)
    assert done.returncode != 0 and done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    return done.stderr


def _shown(live: Live, name: str) -> dict[str, str]:
    lines = _ok(live, "tenant", "show", name).splitlines()
    return dict(line.split(": ", 1) for line in lines)


def test_a_trial_from_creation_to_removal(live: Live):
    tenant_id = _ok(live, "tenant", "create", "acme", "--plan", "trial", "--holder", HOLDER).strip()
    shown = _shown(live, "acme")
    trial_end = tenant_named(live, "acme").trial_ends_at  # type: ignore[union-attr]
    assert trial_end is not None
    assert abs(trial_end - clock.now() - timedelta(days=live.settings.trial_days)) < timedelta(minutes=5)
    assert shown == {
        "name": "acme",
        "id": tenant_id,
        "plan": "trial",
        "status": "active",
        "trial end": trial_end.isoformat(timespec="seconds"),
        "two-step": "on",
        "access route": "line+internet",
        "AD connection id": "-",
    }
    assert _shown(live, tenant_id)["name"] == "acme"  # by id too

    assert "a trial cannot be cancelled; it ends by itself" in _refused(live, "tenant", "cancel", "acme")
    assert _shown(live, "acme")["status"] == "active"

    assert _ok(live, "tenant", "plan", "acme", "basic").strip() == "acme: plan basic"
    shown = _shown(live, "acme")
    assert (shown["plan"], shown["trial end"], shown["status"]) == ("basic", "-", "active")
    assert "already on the basic plan" in _refused(live, "tenant", "plan", "acme", "basic")
    assert "basic plan only, not 'trial'" in _refused(live, "tenant", "plan", "acme", "trial")

    assert "acme: cancelled" in _ok(live, "tenant", "cancel", "acme")
    assert _shown(live, "acme")["status"] == "cancelled"
    assert "already cancelled" in _refused(live, "tenant", "cancel", "acme")
    assert [e.detail["via"] for e in audit_events(live, "tenant.plan_changed", "tenant.cancelled")] == ["cli", "cli"]

    assert _ok(live, "tenant", "purge").splitlines()[0] == "purged 0 tenant(s)"  # kept for now
    with live.app.app_context():  # cancelled as long ago as the days a tenant is kept, and a minute
        since = clock.now() - timedelta(days=live.settings.keep_cancelled_days, minutes=1)
        db.session().execute(update(Tenant).where(Tenant.name == "acme").values(cancelled_at=since))
        db.commit()
    assert _ok(live, "tenant", "purge").splitlines()[:2] == ["removed acme", "purged 1 tenant(s)"]
    assert "no tenant named 'acme'" in _refused(live, "tenant", "show", "acme")
    assert _shown(live, "demo")["status"] == "active"
