"""`idp tenant set demo --mfa on|off` through the installed console script: the same
rules and the same audit event as the holder's page, and sign-ins follow at once."""

from __future__ import annotations

import subprocess

from click.testing import Result
from sqlalchemy import select

from idp import db
from idp.models import Tenant

from ..conftest import Live
from ..console import idp
from ..mfa_steps import audit_events, path_of, sign_in


def _idp(live: Live, *args: str) -> subprocess.CompletedProcess[str]:
    """The installed console script, against the live provider's database."""
    return idp(live.settings, *args)


def _tenant_mfa(live) -> bool:
    with live.app.app_context():
        return db.session().scalar(select(Tenant.mfa_enabled).where(Tenant.name == "demo"))


def test_on_then_off(live):
    done = _idp(live, "tenant", "set", "demo", "--mfa", "on")
    assert done.returncode == 0, done.stderr
    assert "mfa on" in done.stdout and _tenant_mfa(live) is True
    assert path_of(sign_in(live.browser())) == "/mfa/setup/sms"

    done = _idp(live, "tenant", "set", "demo", "--mfa", "off")
    assert done.returncode == 0, done.stderr
    assert _tenant_mfa(live) is False
    assert path_of(sign_in(live.browser())) == "/account"
    assert [e.detail["enabled"] for e in audit_events(live, "tenant.mfa_changed")] == [True, False]


# The refusals and the no-op run the same command in-process: starting the
# console script costs seconds, and the test above already shows it works.


def _in_process(live, *args: str) -> Result:
    with live.app.app_context():  # what the console script's FlaskGroup provides
        return live.app.test_cli_runner().invoke(args=list(args))


def test_setting_it_again_changes_and_records_nothing(live):
    done = _in_process(live, "tenant", "set", "demo", "--mfa", "off")
    assert done.exit_code == 0 and _tenant_mfa(live) is False
    assert audit_events(live, "tenant.mfa_changed") == []


def test_line_only_tenant_refuses_two_step(live):
    assert _in_process(live, "tenant", "set", "demo", "--access-route", "line-only").exit_code == 0
    refused = _in_process(live, "tenant", "set", "demo", "--mfa", "on")
    assert refused.exit_code != 0 and len(refused.output.strip().splitlines()) == 1
    assert _tenant_mfa(live) is False


def test_unknown_tenant(live):
    refused = _in_process(live, "tenant", "set", "nosuch", "--mfa", "on")
    assert refused.exit_code != 0 and "nosuch" in refused.output
