"""The ``idp`` command (also ``flask --app idp``). Exit 0 on success; otherwise
one line on stderr and a non-zero status."""

from __future__ import annotations

import sys
from typing import Any

import click
from flask import current_app
from flask.cli import FlaskGroup
from sqlalchemy import or_, select

from . import audit, clock, db, migrate
from .account import methods, registration
from .account.credentials import set_password
from .auth.password_policy import broken_rules
from .cli_support import transactional
from .client_commands import client_group
from .config import ConfigError
from .federation import ad_setup
from .federation import directory as directories
from .keys import ALGORITHMS
from .models import AccessRoute, Plan, Role, Tenant, User, UserStatus
from .tenants import lines, plans, policy


def _settings():  # type: ignore[no-untyped-def]
    return current_app.extensions["idp.settings"]


# -- db -------------------------------------------------------------------------


@click.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Apply Alembic migrations to IDP_DATABASE_URL."""
    migrate.upgrade(db.engine())
    click.echo("database is at the latest revision")


# -- keys -----------------------------------------------------------------------


@click.group("keys")
def keys_group() -> None:
    """Signing keys in IDP_KEYS_DIR."""


def _store():  # type: ignore[no-untyped-def]
    return current_app.extensions["idp.keys"]


@keys_group.command("list")
def keys_list() -> None:
    """One line per key: kid, alg, state, created, activated."""
    for r in _store().records():
        click.echo(f"{r.kid}\t{r.alg}\t{r.state}\t{r.created}\t{r.activated or '-'}")


@keys_group.command("ensure")
@transactional
def keys_ensure() -> None:
    """Create an active key and its next for each algorithm where missing."""
    if _store().ensure(clock.now()):
        audit.record("keys.created")
        click.echo("signing keys created")


@keys_group.command("rotate")
@click.option("--alg", type=click.Choice(ALGORITHMS), help="rotate only this algorithm's keys")
@click.option("--force", is_flag=True, help="activate a next key published for less than the JWKS cache time")
@click.option("--if-due", is_flag=True, help="do nothing unless the active key is older than keys.rotate_after_days")
@transactional
def keys_rotate(alg: str | None, force: bool, if_due: bool) -> None:
    """Promote next to active, active to retiring, and create a new next."""
    settings, store, now = _settings(), _store(), clock.now()
    algs = (alg,) if alg else ALGORITHMS
    if if_due:
        algs = tuple(a for a in store.due_algorithms(settings.rotate_after_days, now) if a in algs)
        if not algs:
            click.echo("no rotation due")
            return
    records = store.rotate(algs, max_age=settings.jwks_max_age, force=force, now=now)
    active = [r.kid for r in records if r.state == "active" and r.alg in algs]
    audit.record("keys.rotated", algorithms=list(algs), active=active, forced=force)
    click.echo(f"rotated {', '.join(algs)}; active now {', '.join(active)}")


@keys_group.command("prune")
@transactional
def keys_prune() -> None:
    """Retire retiring keys older than the longest token lifetime plus the JWKS cache time."""
    settings = _settings()
    retired = _store().prune(settings.longest_token_ttl + settings.jwks_max_age, clock.now())
    if retired:
        audit.record("keys.retired", kids=[r.kid for r in retired])
    click.echo(f"retired {len(retired)} key(s)")


# -- tenants and users ----------------------------------------------------------


def find_tenant(ref: str) -> Tenant:
    tenant = db.session().scalar(select(Tenant).where(or_(Tenant.id == ref, Tenant.name == ref)))
    if tenant is None:
        raise LookupError(f"no tenant named {ref!r}")
    return tenant


def add_user(email: str, tenant: Tenant, role: str, password: str | None) -> User:
    """Create a user, or complete one that was created invited (a tenant's holder)."""
    session = db.session()
    user = session.scalar(select(User).where(User.email_key == User.key_for(email)))
    if user is not None and (user.status != UserStatus.INVITED or user.tenant_id != tenant.id):
        raise ValueError(f"a user with email {email!r} already exists")
    if user is None:
        user = User(tenant=tenant, email=email.strip(), email_key=User.key_for(email), role=role)
        session.add(user)
    if password is None:
        user.status = UserStatus.INVITED
        return user
    if broken := broken_rules(password, email):
        raise ValueError("password rejected: " + ", ".join(broken))
    user.role, user.status = role, UserStatus.ACTIVE
    session.flush()
    set_password(user, password)
    return user


@click.group("tenant")
def tenant_group() -> None:
    """Tenants (契約)."""


@tenant_group.command("create")
@click.argument("name")
@click.option("--plan", type=click.Choice([p.value for p in Plan]), default="basic")
@click.option("--holder", "holder_email", required=True, help="email of the contract holder")
@transactional
def tenant_create(name: str, plan: str, holder_email: str) -> None:
    """Create a tenant and its contract holder (invited until given a password); print the id."""
    if db.session().scalar(select(Tenant).where(Tenant.name == name)):
        raise ValueError(f"a tenant named {name!r} already exists")
    tenant = Tenant(name=name, plan=plan)
    if plan == Plan.TRIAL:
        tenant.trial_ends_at = plans.trial_end_for(clock.now())
    db.session().add(tenant)
    db.session().flush()
    holder = add_user(holder_email, tenant, Role.HOLDER, None)
    audit.record("tenant.created", tenant_id=tenant.id, plan=plan, holder=holder.email)
    # The holder registers from the same mail as anyone invited (manual §1.5); the operator invited.
    registration.send_invitation(holder, None)
    click.echo(tenant.id)


@tenant_group.command("set")
@click.argument("tenant_ref", metavar="T")
@click.option("--mfa", type=click.Choice(["on", "off"]), help="two-step verification for password logins")
@click.option("--access-route", type=click.Choice([r.value for r in AccessRoute]))
@transactional
def tenant_set(tenant_ref: str, mfa: str | None, access_route: str | None) -> None:
    """Change a tenant's two-step policy or access route (same rules as the account menu)."""
    tenant = find_tenant(tenant_ref)
    if access_route:
        policy.set_access_route(tenant, access_route, via="cli")
    if mfa:
        policy.set_mfa(tenant, mfa == "on", via="cli")
    click.echo(f"{tenant.name}: mfa {'on' if tenant.mfa_enabled else 'off'}, access route {tenant.access_route}")


@tenant_group.command("lines")
@click.argument("tenant_ref", metavar="T")
@click.argument("action", required=False, type=click.Choice(["add", "remove"]))
@click.argument("number", required=False)
@transactional
def tenant_lines(tenant_ref: str, action: str | None, number: str | None) -> None:
    """List a tenant's line numbers, or add or remove one (CAF + 10 or COP + 8 alphanumerics)."""
    tenant = find_tenant(tenant_ref)
    if action and not number:
        raise ValueError(f"give the line number to {action}")
    if action == "add":
        click.echo(f"added {lines.add(tenant, number or '', via='cli')}")
    elif action == "remove":
        click.echo(f"removed {lines.remove(tenant, number or '', via='cli')}")
    else:
        for registered in lines.numbers(tenant):
            click.echo(registered)


@tenant_group.command("show")
@click.argument("tenant_ref", metavar="T")
@transactional
def tenant_show(tenant_ref: str) -> None:
    """Name, id, plan, status, trial end, two-step, access route, AD connection id."""
    tenant = find_tenant(tenant_ref)
    trial_end = tenant.trial_ends_at.isoformat(timespec="seconds") if tenant.trial_ends_at else "-"
    for label, value in (
        ("name", tenant.name),
        ("id", tenant.id),
        ("plan", tenant.plan),
        ("status", plans.standing(tenant).value),
        ("trial end", trial_end),
        ("two-step", "on" if tenant.mfa_enabled else "off"),
        ("access route", tenant.access_route),
        ("AD connection id", getattr(directories.of_tenant(tenant.id), "connection_id", "-")),
    ):
        click.echo(f"{label}: {value}")


@tenant_group.command("ad")
@click.argument("tenant_ref", metavar="T")
@click.option("--metadata", "source", required=True, metavar="FILE_OR_URL", help="ADFS federation metadata")
@transactional
def tenant_ad(tenant_ref: str, source: str) -> None:
    """Set the tenant's ADFS (SAML IdP) metadata; print the connection id (kept when replaced)."""
    tenant = find_tenant(tenant_ref)
    url = source if ad_setup.is_url(source) else None
    data = None if url else _read_limited(source, _settings().ad_metadata_max_bytes)
    directory, _created = ad_setup.use_metadata(tenant, data, url, actor=None, via="cli")
    click.echo(directory.connection_id)


def _read_limited(path: str, limit: int) -> bytes:
    """A file's bytes, up to one more than ``limit`` (the metadata check then says it is too big)."""
    with open(path, "rb") as f:
        return f.read(limit + 1)


@tenant_group.command("ldap")
@click.argument("tenant_ref", metavar="T")
@click.option("--url", required=True, help="ldaps://host[:port], or ldap://host[:port] with StartTLS")
@click.option("--base-dn", required=True, help="where people are searched")
@click.option("--bind-dn", help="service account that searches (none: anonymous search)")
@click.option(
    "--bind-password",
    envvar="IDP_LDAP_BIND_PASSWORD",
    help="its password; a command line shows in `ps`: prefer IDP_LDAP_BIND_PASSWORD or --bind-password-file",
)
@click.option("--bind-password-file", type=click.File("r"), help="file holding the password (- for stdin)")
@click.option("--user-attribute", default="sAMAccountName", show_default=True, help="what people type")
@click.option("--plain", is_flag=True, help="ldap:// without StartTLS: passwords cross the network in clear")
@transactional
def tenant_ldap(
    tenant_ref: str,
    url: str,
    base_dn: str,
    bind_dn: str | None,
    bind_password: str | None,
    bind_password_file: Any,
    user_attribute: str,
    plain: bool,
) -> None:
    """Set a direct LDAP bind for the tenant instead of ADFS; print the connection id
    (kept when the settings are replaced; the holder is mailed a new one)."""
    tenant = find_tenant(tenant_ref)
    if bind_password_file is not None:
        if bind_password is not None:
            raise ValueError("give the bind password once: --bind-password-file or --bind-password")
        bind_password = bind_password_file.read().rstrip("\r\n")
    if bool(bind_dn) != bool(bind_password):
        raise ValueError("a service account needs both --bind-dn and its password")
    found, _created = ad_setup.use_ldap(
        tenant, url, base_dn, bind_dn, bind_password, user_attribute, plain, None, via="cli"
    )
    click.echo(found.connection_id)


@tenant_group.command("plan")
@click.argument("tenant_ref", metavar="T")
@click.argument("plan", metavar="basic")
@transactional
def tenant_plan(tenant_ref: str, plan: str) -> None:
    """A trial becomes basic (also within the grace days after the trial ended).
    The plan is checked by the rules, not by click: a refusal is one line."""
    tenant = find_tenant(tenant_ref)
    plans.change_plan(tenant, plan, via="cli")
    click.echo(f"{tenant.name}: plan {tenant.plan}")


@tenant_group.command("cancel")
@click.argument("tenant_ref", metavar="T")
@transactional
def tenant_cancel(tenant_ref: str) -> None:
    """Cancel a basic tenant: every session and token of it stops working at its next use."""
    tenant = find_tenant(tenant_ref)
    plans.cancel(tenant, via="cli")
    removed = plans.removal_date(tenant)
    click.echo(f"{tenant.name}: cancelled; removed after {removed.isoformat(timespec='seconds') if removed else '-'}")


@tenant_group.command("purge")
@transactional
def tenant_purge() -> None:
    """Remove the tenants cancelled more than tenants.keep_cancelled_days ago, with their users,
    and the audit events older than audit.retention_days."""
    purged = plans.purge()
    for name in purged:
        click.echo(f"removed {name}")
    click.echo(f"purged {len(purged)} tenant(s)")
    click.echo(f"removed {audit.purge_expired()} audit event(s) past their retention")


@click.group("user")
def user_group() -> None:
    """Users."""


@user_group.command("create")
@click.argument("email")
@click.option("--tenant", "tenant_ref", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), default="user")
@click.option("--password", default=None, help="without it the user stays invited")
@transactional
def user_create(email: str, tenant_ref: str, role: str, password: str | None) -> None:
    user = add_user(email, find_tenant(tenant_ref), role, password)
    audit.record("user.created", user=user, role=role)
    click.echo(user.id)


@user_group.command("invite")
@click.argument("email")
@click.option("--tenant", "tenant_ref", required=True)
@click.option("--name", default="", help="shown in the mail")
@click.option("--role", type=click.Choice([r.value for r in registration.ROLES]), default="user")
@transactional
def user_invite(email: str, tenant_ref: str, name: str, role: str) -> None:
    """Invite EMAIL: mails the registration link (valid 14 days, used once; an earlier one stops working)."""
    user = registration.invite(find_tenant(tenant_ref), email, name, role, actor=None, via="cli")
    click.echo(f"invited {user.email} as {user.role}: registration mail sent, link valid 14 days")


@user_group.command("list")
@click.option("--tenant", "tenant_ref", required=True)
@transactional
def user_list(tenant_ref: str) -> None:
    """One line per user: email, role, login method, status."""
    tenant = find_tenant(tenant_ref)
    users = db.session().scalars(select(User).where(User.tenant_id == tenant.id).order_by(User.email_key))
    for user in users:
        method = methods.current(user) if user.identities else "-"
        click.echo(f"{user.email}\t{user.role}\t{method}\t{user.status}")


@click.command("demo")
@transactional
def demo() -> None:
    """Seed the demo tenant, users and client (idempotent)."""
    from .demo import seed

    for line in seed():
        click.echo(line)


COMMANDS = [db_group, keys_group, tenant_group, user_group, client_group, demo]


def register(app: Any) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)


def _create_app() -> Any:
    from . import create_app

    return create_app()


def main() -> None:
    from sqlalchemy.exc import OperationalError

    group = FlaskGroup(create_app=_create_app, add_default_commands=False, load_dotenv=False)
    try:
        group.main(prog_name="idp")
    except ConfigError as e:
        click.echo(f"idp: {e}", err=True)
        sys.exit(2)
    except OperationalError as e:
        # The database cannot be reached or opened: an operator's problem, told
        # in one line (the driver's first), not a traceback.
        reason = str(e.orig or e).strip().splitlines()[0]
        click.echo(f"idp: database unavailable: {reason}", err=True)
        sys.exit(1)
