"""What an access-route change does besides the route, the same from the account
menu and from `idp tenant set`: line-only records when it began and what two-step
verification was, and switches it off (manual §5.1); leaving line-only puts
two-step verification back as it was (on when unknown), never silently off.
Every change, and every two-step change, is mailed to the holder and the admins."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from idp import clock, db
from idp.models import Tenant

from ..conftest import Live
from ..console import idp
from ..line_steps import LINE, line_browser, line_only_with, register_line, serve, set_mfa, set_route, tenant_state
from ..mfa_steps import DEMO_ADMIN, add_admin, audit_events, enrol_totp, path_of, sign_in
from ..rp import DEMO_HOLDER, DEMO_USER, Browser
from ..transports import MailServer, Received

ADMIN = DEMO_ADMIN
ROUTE_SUBJECT = "【ワークストレージ】アクセス経路設定変更のお知らせ"
TWO_STEP_SUBJECT = "【ワークストレージ】2段階認証設定変更のお知らせ"
NOT_YOU_JA = "お心当たりのない場合は、直ちにパスワードを変更のうえ"


@pytest.fixture
def live(database_url, tmp_path, key_template, mail, sms):
    yield from serve(database_url, tmp_path, key_template, mail, sms)


def _tenant(live: Live) -> Tenant:
    with live.app.app_context():
        tenant = db.session().scalar(select(Tenant).where(Tenant.name == "demo"))
        assert tenant is not None
        return tenant


def _holder_over_the_line(live: Live) -> Browser:
    """The holder signed in over the registered line (a factor already enrolled,
    so that the line sign-in goes straight to the menu)."""
    register_line(live)
    enrol_totp(live, DEMO_HOLDER)
    browser = line_browser(live)
    assert path_of(sign_in(browser, DEMO_HOLDER)) == "/account"
    return browser


def _choose_route(browser: Browser, route: str) -> None:
    assert browser.get("/account/access-route").status_code == 200
    assert 'id="route-confirm"' in browser.submit({"route": route}).text
    assert 'id="route-done"' in browser.submit({}).text


def _notices(mail: MailServer, to: str, subject: str, count: int) -> list[Received]:
    """The first ``count`` notices with ``subject`` that ``to`` received (waiting for them)."""
    found: list[Received] = []
    seen = 0
    while len(found) < count:
        message = mail.inbox.wait_for(to, after=seen)
        seen += 1
        if message.subject == subject:
            found.append(message)
    return found


def _mfa_changes(live: Live) -> list[tuple[bool, str | None, str]]:
    return [
        (e.detail["enabled"], e.detail.get("reason"), e.detail["via"]) for e in audit_events(live, "tenant.mfa_changed")
    ]


# -- two-step verification across line-only --------------------------------------------


def test_leaving_line_only_restores_two_step(live):
    set_mfa(live, True)
    holder = _holder_over_the_line(live)
    before = clock.now()
    _choose_route(holder, "line-only")
    tenant = _tenant(live)
    assert tenant.mfa_enabled is False and tenant.mfa_before_line_only is True
    assert tenant.line_only_since is not None and before <= tenant.line_only_since <= clock.now()

    _choose_route(holder, "line+internet")
    tenant = _tenant(live)
    assert tenant.mfa_enabled is True and tenant.line_only_since is None
    assert _mfa_changes(live) == [
        (True, None, "test"),
        (False, "line-only", "account_menu"),
        (True, "line+internet", "account_menu"),
    ]
    # The tenant's users give the second step from the internet again.
    assert path_of(sign_in(live.browser(), DEMO_USER)) == "/mfa/setup/sms"


def test_two_step_that_was_off_stays_off(live):
    line_only_with(live)
    set_route(live, "line+internet")
    assert tenant_state(live).mfa_enabled is False
    assert _mfa_changes(live) == []
    assert path_of(sign_in(live.browser(), DEMO_USER)) == "/account"


def test_unknown_two_step_comes_back_on(live):
    """A tenant that became line-only before the setting was recorded."""
    line_only_with(live)
    with live.app.app_context():
        db.session().execute(update(Tenant).where(Tenant.name == "demo").values(mfa_before_line_only=None))
        db.commit()
    set_route(live, "line+internet")
    assert tenant_state(live).mfa_enabled is True
    assert _mfa_changes(live) == [(True, "line+internet", "test")]


def test_each_switch_to_line_only_is_dated_afresh(live):
    line_only_with(live)
    first = _tenant(live).line_only_since
    set_route(live, "line+internet")
    clock.advance(timedelta(minutes=1))
    set_route(live, "line-only")
    second = _tenant(live).line_only_since
    assert first is not None and second is not None and second > first


# -- notices ---------------------------------------------------------------------------


def test_a_route_change_is_mailed_to_the_holder_and_the_admins(live, mail):
    add_admin(live)
    holder = _holder_over_the_line(live)
    _choose_route(holder, "line-only")
    for to in (DEMO_HOLDER, ADMIN):
        (notice,) = _notices(mail, to, ROUTE_SUBJECT, 1)
        assert "変更前: 回線認証+インターネット" in notice.body and "変更後: 回線認証のみ" in notice.body
        assert f"認証・契約情報変更メニュー（{DEMO_HOLDER}）" in notice.body
        assert "変更日時: " in notice.body and NOT_YOU_JA in notice.body
        assert "from line authentication + internet to line authentication only" in notice.body
        assert f"By: the account menu, signed in as {DEMO_HOLDER}" in notice.body
    assert mail.inbox.count(DEMO_USER) == 0


def test_a_two_step_change_is_mailed(live, mail):
    add_admin(live)
    browser = live.browser()
    assert path_of(sign_in(browser, DEMO_HOLDER)) == "/account"
    browser.get("/account/mfa")
    browser.submit({"mfa": "on"})
    assert 'id="mfa-policy-done"' in browser.submit({"confirmed": "y"}).text
    for to in (DEMO_HOLDER, ADMIN):
        (notice,) = _notices(mail, to, TWO_STEP_SUBJECT, 1)
        assert "変更後の設定: 2段階認証を有効にする" in notice.body
        assert f"認証・契約情報変更メニュー（{DEMO_HOLDER}）" in notice.body and NOT_YOU_JA in notice.body
        assert "two-step verification is now on." in notice.body
    assert mail.inbox.count(DEMO_USER) == 0


# -- the operator's command ------------------------------------------------------------


def test_the_operator_switches_back_with_the_same_rules(live, mail):
    add_admin(live)
    set_mfa(live, True)
    line_only_with(live, LINE)
    done = idp(live.settings, "tenant", "set", "demo", "--access-route", "line+internet", IDP_SMTP_URL=mail.url)
    assert done.returncode == 0, done.stderr
    assert "mfa on, access route line+internet" in done.stdout
    tenant = _tenant(live)
    assert tenant.access_route == "line+internet" and tenant.mfa_enabled is True and tenant.line_only_since is None
    assert _mfa_changes(live)[-1] == (True, "line+internet", "cli")
    changed = audit_events(live, "tenant.access_route_changed")[-1]
    assert changed.detail == {"route": "line+internet", "via": "cli"}
    for to in (DEMO_HOLDER, ADMIN):
        _by_test, by_operator = _notices(mail, to, ROUTE_SUBJECT, 2)
        assert "変更後: 回線認証+インターネット" in by_operator.body and "2段階認証設定: 有効" in by_operator.body
        assert "変更方法: サービス運営者による変更" in by_operator.body
        assert "By: the service operator" in by_operator.body


def test_a_refused_command_mails_nothing(live, mail):
    """`--access-route line-only --mfa on` is refused as a whole: the route change it
    began is not committed, and nobody is told of a change that did not happen."""
    with live.app.app_context():  # what the console script's FlaskGroup provides
        refused = live.app.test_cli_runner().invoke(
            args=["tenant", "set", "demo", "--access-route", "line-only", "--mfa", "on"]
        )
    assert refused.exit_code != 0 and tenant_state(live).access_route == "line+internet"
    done = idp(live.settings, "tenant", "set", "demo", "--access-route", "line-only", IDP_SMTP_URL=mail.url)
    assert done.returncode == 0, done.stderr
    (notice,) = _notices(mail, DEMO_HOLDER, ROUTE_SUBJECT, 1)
    assert "変更後: 回線認証のみ" in notice.body and mail.inbox.count(DEMO_HOLDER) == 1
