"""Steps shared by the plan and cancellation tests: a trial tenant made the way
the operator makes one, the command line run in-process, and what the
database holds of a tenant."""

from __future__ import annotations

from datetime import timedelta

from click.testing import Result
from sqlalchemy import select

from idp import db
from idp.models import Tenant, User

from .conftest import Live
from .rp import DEMO_PASSWORD
from .transports import MailServer, Received

TRIAL = "trial-co"
TRIAL_HOLDER = "holder@trial.example"
TRIAL_USER = "user@trial.example"


def cli(live: Live, *args: str) -> Result:
    """An `idp` command in-process, on the provider's clock (the console script
    runs on the real one; tests/console.py runs that)."""
    with live.app.app_context():  # what the console script's FlaskGroup provides
        return live.app.test_cli_runner().invoke(args=list(args))


def trial_tenant(live: Live) -> None:
    """A trial that began now, with its holder and a user (the demo password),
    two-step verification off so that the journeys stay short."""
    for args in (
        ("tenant", "create", TRIAL, "--plan", "trial", "--holder", TRIAL_HOLDER),
        ("user", "create", TRIAL_HOLDER, "--tenant", TRIAL, "--role", "holder", "--password", DEMO_PASSWORD),
        ("user", "create", TRIAL_USER, "--tenant", TRIAL, "--password", DEMO_PASSWORD),
        ("tenant", "set", TRIAL, "--mfa", "off"),
    ):
        done = cli(live, *args)
        assert done.exit_code == 0, done.output


def days(n: int) -> timedelta:
    return timedelta(days=n)


def tenant_named(live: Live, name: str) -> Tenant | None:
    with live.app.app_context():
        return db.session().scalar(select(Tenant).where(Tenant.name == name))


def emails_of(live: Live, name: str) -> list[str]:
    """The users a tenant has, by email."""
    with live.app.app_context():
        query = select(User.email).join(Tenant, Tenant.id == User.tenant_id).where(Tenant.name == name)
        return sorted(db.session().scalars(query))


def notice_to(mail: MailServer, to: str, subject: str) -> Received:
    """The first mail to ``to`` with ``subject`` (other notices may come first)."""
    after = 0
    while True:
        received = mail.inbox.wait_for(to, after=after)
        if received.subject == subject:
            return received
        after += 1
