"""Invitations and registration (manual §1.5): the holder invites from the admin
console or the operator with `idp user invite`; the invited person registers from
the mail's one link (valid 14 days, used once, replaced by a newer invitation)
and then signs in."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from idp import clock, db
from idp.federation import directory
from idp.models import Tenant

from ..console import idp as console_script
from ..invite_steps import NEW_PASSWORD, SUBJECT, console, invitation_link, invite, open_link, register
from ..mfa_steps import audit_events, path_of, sign_in, user_status
from ..rp import DEMO_HOLDER, parse_forms, text_of
from .test_single_use_races import one_winner, race

ADMIN, USER = "kanri@demo.example", "riyou@demo.example"
INVALID = 'id="invitation-invalid"'


def idp(settings, *args: str):  # type: ignore[no-untyped-def]
    """The console script, its mail going to the test's SMTP server like the provider's."""
    return console_script(settings, *args, IDP_SMTP_URL=settings.smtp_url or "")


def test_the_holder_invites_an_admin_and_a_user_who_register_and_sign_in(live, mail):
    holder = console(live)
    for email, name, role in ((ADMIN, "管理 花子", "admin"), (USER, "利用 太郎", "user")):
        page = invite(holder, email, name, role)
        assert path_of(page) == "/admin/users/new" and 'id="action-done"' in page.text
        assert user_status(live, email) == "invited"
        message = mail.inbox.wait_for(email)
        assert message.subject == SUBJECT
        # Manual §1.5: the invitee's name, the inviter's address, 14 days.
        assert f"{name} 様" in message.body and f"{DEMO_HOLDER}より{name}様が" in message.body
        assert "14日以内" in message.body
        assert sign_in(live.browser(), email, NEW_PASSWORD).status_code == 401  # invited: cannot sign in

        done = register(live, invitation_link(live, mail, email))
        assert "申込完了" in done.text and path_of(done) == "/register/confirm"
        assert 'id="register-ok" href="/login"' in done.text
        browser = live.browser()
        assert path_of(sign_in(browser, email, NEW_PASSWORD)) == "/account"
        assert browser.get("/admin/users").status_code == (200 if role == "admin" else 403)
        assert user_status(live, email) == "active"

    invited = [(e.email, e.detail["email"], e.detail["role"]) for e in audit_events(live, "user.invited")]
    assert invited == [(DEMO_HOLDER, ADMIN, "admin"), (DEMO_HOLDER, USER, "user")]
    assert [e.email for e in audit_events(live, "user.registered")] == [ADMIN, USER]


def test_the_registration_page_shows_the_email_the_rule_and_each_method(live, mail):
    invite(console(live), USER)
    browser = open_link(live, invitation_link(live, mail, USER))
    text = text_of(browser.last.text)
    assert "利用者ログイン登録" in text and USER in text
    assert "パスワードは英大文字、英小文字、数字、記号から3種類以上を含め8文字以上で設定してください" in text
    assert 'data-provider="password"' in browser.last.text
    fields = parse_forms(browser.last.text)[0]["fields"]
    assert {"csrf_token", "password", "password_confirm"} <= set(fields)
    english = browser.get("/register?lang=en")
    assert "User login registration" in english.text and "Password (confirmation)" in english.text


def test_the_ticket_leaves_the_address_and_works_only_in_that_browser(live, mail):
    invite(console(live), USER)
    link = invitation_link(live, mail, USER)
    first = live.browser().http.get(link, allow_redirects=False, timeout=10)
    assert first.status_code == 303 and first.headers["Location"] == "/register"
    elsewhere = live.browser().get("/register")
    assert elsewhere.status_code == 400 and INVALID in elsewhere.text


def test_the_password_rule_is_named_and_does_not_use_the_link(live, mail):
    invite(console(live), USER)
    link = invitation_link(live, mail, USER)
    browser = open_link(live, link)
    page = browser.submit({"password": "abc", "password_confirm": "abd"})
    assert path_of(page) == "/register"
    for message in ("8文字以上", "3種類以上", "確認用パスワードが一致しません"):
        assert message in page.text
    assert page.text.count('class="error"') == 3
    assert 'id="register-done"' in register(live, link).text


def test_the_confirmation_page_needs_a_chosen_password(live, mail):
    invite(console(live), USER)
    browser = open_link(live, invitation_link(live, mail, USER))
    assert path_of(browser.get("/register/confirm")) == "/register"


@pytest.mark.parametrize(("age", "valid"), [(timedelta(days=14, minutes=-1), True), (timedelta(days=14), False)])
def test_an_invitation_lasts_14_days(live, mail, age, valid):
    invite(console(live), USER)
    link = invitation_link(live, mail, USER)
    clock.advance(age)
    page = live.browser().get(link)
    if valid:
        assert 'id="register-done"' in register(live, link).text
    else:
        assert page.status_code == 400 and INVALID in page.text
        assert "契約者様または管理者権限を持つ利用者様に、利用者登録のご案内の再送を依頼してください。" in page.text
        assert user_status(live, USER) == "invited"


def test_an_invitation_is_used_once(live, mail):
    invite(console(live), USER)
    link = invitation_link(live, mail, USER)
    register(live, link)
    again = live.browser().get(link)
    assert again.status_code == 400 and INVALID in again.text
    assert "利用者登録がお済みの場合は、ログインしてください。" in again.text


def test_inviting_again_replaces_the_link(live, mail):
    holder = console(live)
    invite(holder, USER, "First")
    first = invitation_link(live, mail, USER)
    invite(holder, USER, "Second", "admin")
    second = invitation_link(live, mail, USER, after=1)
    assert "Second 様" in mail.inbox.wait_for(USER, after=1).body
    assert INVALID in live.browser().get(first).text
    register(live, second)
    assert "\tadmin\tpassword\tactive" in idp(live.settings, "user", "list", "--tenant", "demo").stdout


def test_a_used_invitation_page_opened_before_cannot_register_again(live, mail):
    """A page opened before the link was used: confirming answers the invalid page."""
    invite(console(live), USER)
    link = invitation_link(live, mail, USER)
    late = open_link(live, link)
    late.submit({"password": "Other-pass-2027", "password_confirm": "Other-pass-2027"})
    register(live, link)
    answer = late.submit({})
    assert answer.status_code == 400 and INVALID in answer.text
    assert sign_in(live.browser(), USER, "Other-pass-2027").status_code == 401


def test_five_concurrent_registrations_with_one_link_one_wins(live, mail):
    invite(console(live), USER)
    link = invitation_link(live, mail, USER)
    passwords = [f"Racer-{i}-pass-2027" for i in range(5)]
    browsers = []
    for password in passwords:
        browser = open_link(live, link)
        confirm = browser.submit({"password": password, "password_confirm": password})
        assert path_of(confirm) == "/register/confirm"
        browsers.append(browser)
    answers = race(
        *(
            lambda b=b: b.http.post(
                live.url + "/register/confirm",
                data=parse_forms(b.last.text)[0]["fields"],
                allow_redirects=False,
                timeout=30,
            )
            for b in browsers
        )
    )
    winner = one_winner(answers, lambda r: 'id="register-done"' in r.text)
    assert all(r.status_code == 400 and INVALID in r.text for r in answers if r is not winner)
    kept = passwords[answers.index(winner)]
    for password in passwords:
        expected = "/account" if password == kept else "/login"
        assert path_of(sign_in(live.browser(), USER, password)) == expected
    assert len(audit_events(live, "user.registered")) == 1


def test_the_console_refuses_a_bad_or_taken_address(live, mail):
    holder = console(live)
    for email, reason in (
        ("not-an-address", "メールアドレスを正しく入力してください"),
        (DEMO_HOLDER, "すでに使用されている"),
    ):
        page = invite(holder, email)
        assert page.status_code == 400 and reason in text_of(page.text)
    forged = holder.http.post(
        live.url + "/admin/users/new", data={"email": USER, "role": "user", "csrf_token": "x"}, timeout=10
    )
    assert forged.status_code == 400
    assert mail.inbox.count(USER) == 0 and not audit_events(live, "user.invited")


# -- the command line ------------------------------------------------------------------


def test_the_operator_invites_and_lists_with_the_command(live, mail):
    done = idp(live.settings, "user", "invite", USER, "--tenant", "demo", "--name", "利用 太郎", "--role", "admin")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("\n") == 1 and USER in done.stdout
    body = mail.inbox.wait_for(USER).body
    assert "サービス運営者より利用 太郎様が" in body and "The service operator" in body
    listed = idp(live.settings, "user", "list", "--tenant", "demo").stdout.splitlines()
    assert f"{USER}\tadmin\t-\tinvited" in listed
    assert "user@demo.example\tuser\tpassword\tactive" in listed
    register(live, invitation_link(live, mail, USER))
    assert f"{USER}\tadmin\tpassword\tactive" in idp(live.settings, "user", "list", "--tenant", "demo").stdout
    event = audit_events(live, "user.invited")[0]
    assert (event.email, event.detail["via"]) == (None, "cli")


@pytest.mark.parametrize(
    "args",
    [
        ("user", "invite", USER, "--tenant", "nowhere"),
        ("user", "invite", DEMO_HOLDER, "--tenant", "demo"),
        ("user", "invite", "not-an-address", "--tenant", "demo"),
        ("user", "list", "--tenant", "nowhere"),
    ],
)
def test_the_command_refuses_in_one_line(live, mail, args):
    answer = idp(live.settings, *args)
    assert answer.returncode != 0 and answer.stdout == ""
    assert len(answer.stderr.strip().splitlines()) == 1, answer.stderr


def test_a_new_tenants_holder_registers_from_the_same_mail(live, mail):
    holder = "boss@acme.example"
    created = idp(live.settings, "tenant", "create", "acme", "--holder", holder)
    assert created.returncode == 0, created.stderr
    body = mail.inbox.wait_for(holder).body
    assert "サービス運営者より" in body
    register(live, invitation_link(live, mail, holder))
    assert f"{holder}\tholder\tpassword\tactive" in idp(live.settings, "user", "list", "--tenant", "acme").stdout
    # A new tenant has two-step verification on: the first sign-in registers a factor.
    assert path_of(sign_in(live.browser(), holder, NEW_PASSWORD)) == "/mfa/setup/sms"


@pytest.fixture
def ad_offered(live):
    """The demo tenant has an Active Directory connection: the AD method is on offer
    (to everyone but its holder), as the broker registered it."""
    with live.app.app_context():
        tenant = db.session().scalar(select(Tenant).where(Tenant.name == "demo"))
        directory.set_ldap(tenant, "ldaps://dc.corp.example", "DC=corp,DC=example")
        db.commit()


def test_other_methods_come_from_the_registry_and_lead_to_their_sign_in(live, mail, ad_offered):
    invite(console(live), USER)
    browser = open_link(live, invitation_link(live, mail, USER))
    forms = parse_forms(browser.last.text)
    assert 'data-provider="ad"' in browser.last.text and "Active Directoryアカウントで登録" in browser.last.text
    assert 'data-provider="google"' not in browser.last.text  # an upstream not configured is off
    index = next(i for i, f in enumerate(forms) if f["action"] == "/register/method/ad")
    answer = browser.http.post(
        live.url + forms[index]["action"], data=forms[index]["fields"], allow_redirects=False, timeout=10
    )
    assert answer.status_code == 303 and answer.headers["Location"] == "/login/ad?register=invite"
    refused = browser.http.post(
        live.url + "/register/method/google", data=forms[index]["fields"], allow_redirects=False, timeout=10
    )
    assert refused.status_code == 404
    assert user_status(live, USER) == "invited"  # choosing a method uses nothing up
