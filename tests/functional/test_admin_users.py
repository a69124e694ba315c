"""The admin console's users (manual §2.2): the list with search and paging, each
user's detail, and the holder's and admins' actions there — role change,
deactivation and reactivation, a new invitation, resetting two-step — each a
CSRF-protected POST, confirmed where destructive, audited with who did it.
Nothing of another tenant can be seen or touched, and plain users are refused."""

from __future__ import annotations

import re

from idp import db
from idp.cli import add_user
from idp.models import Role

from ..invite_steps import console, invitation_link, invite, other_tenant, register, user_id
from ..journeys import set_tenant_mfa
from ..line_steps import introspect, refresh, rp_sign_in, set_route, userinfo
from ..mfa_steps import (
    DEMO_ADMIN,
    add_admin,
    audit_events,
    enrol_totp,
    is_enrolled,
    path_of,
    sign_in,
    user_status,
)
from ..rp import DEMO_HOLDER, DEMO_PASSWORD, DEMO_USER, Browser, parse_forms, text_of

INVITED = "shoutai@demo.example"
ACTIONS = ("role", "deactivate", "reactivate", "reset-two-step", "resend")


def _rows(html: str) -> list[dict[str, str]]:
    """The user list's rows: email, role, login method, status, two-step, last login."""
    rows = re.findall(
        r'<tr data-user="[^"]+" data-email="([^"]+)">.*?data-role="([^"]*)".*?data-provider="([^"]*)".*?'
        r'data-status="([^"]*)".*?data-two-step="([^"]*)".*?class="last-login">([^<]*)<',
        html,
        re.S,
    )
    keys = ("email", "role", "method", "status", "two_step", "last_login")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def _act(browser: Browser, uid: str, action: str, confirm: bool = True, **fields: str):  # type: ignore[no-untyped-def]
    """Post an action from the user's detail page, and confirm it when asked."""
    detail = browser.get(f"/admin/users/{uid}")
    index = next(i for i, f in enumerate(parse_forms(detail.text)) if f["action"].endswith(f"/{action}"))
    answer = browser.submit(fields, form_index=index)
    if confirm and 'id="confirm-question"' in answer.text:
        answer = browser.submit({})
    return answer


# -- the list --------------------------------------------------------------------------


def test_the_list_shows_each_user(live, mail):
    set_tenant_mfa(live, False)
    enrol_totp(live, DEMO_USER)
    sign_in(live.browser(), DEMO_USER)
    holder = console(live)
    invite(holder, INVITED, "招待 花子")
    page = holder.get("/admin/users")
    assert page.status_code == 200 and "ユーザー一覧" in page.text
    rows = {row["email"]: row for row in _rows(page.text)}
    assert set(rows) == {DEMO_HOLDER, DEMO_USER, INVITED}
    assert rows[DEMO_USER] | {"last_login": ""} == {
        "email": DEMO_USER,
        "role": "user",
        "method": "password",
        "status": "active",
        "two_step": "yes",
        "last_login": "",
    }
    assert re.fullmatch(r"\d{4}/\d\d/\d\d \d\d:\d\d", rows[DEMO_USER]["last_login"])
    assert rows[INVITED] == {
        "email": INVITED,
        "role": "user",
        "method": "",
        "status": "invited",
        "two_step": "no",
        "last_login": "-",
    }
    assert "招待 花子" in page.text
    english = holder.get("/admin/users?lang=en").text
    assert "User list" in english and "Invited (not registered yet)" in english


def test_search_and_paging(live):
    with live.app.app_context():
        from ..mfa_steps import user_named

        tenant = user_named(DEMO_HOLDER).tenant
        for n in range(25):
            add_user(f"staff{n:02}@demo.example", tenant, Role.USER, None).name = f"Staff {n:02}"
        add_user("yamada@demo.example", tenant, Role.USER, None).name = "山田 一郎"
        db.commit()
    holder = console(live)
    first = holder.get("/admin/users")
    assert len(_rows(first.text)) == 20 and 'id="next-page"' in first.text
    second = holder.get("/admin/users?page=2")
    assert len(_rows(second.text)) == 8 and 'id="previous-page"' in second.text
    emails = [r["email"] for r in _rows(first.text) + _rows(second.text)]
    assert len(set(emails)) == 28
    assert [r["email"] for r in _rows(holder.get("/admin/users?q=山田").text)] == ["yamada@demo.example"]
    assert [r["email"] for r in _rows(holder.get("/admin/users?q=STAFF0").text)] == [
        f"staff0{n}@demo.example" for n in range(10)
    ]
    assert 'id="no-users"' in holder.get("/admin/users?q=%25").text  # a wildcard is a character
    assert holder.get("/admin/users?page=99").status_code == 200
    assert holder.get("/admin/users?page=x").status_code == 200


# -- actions ----------------------------------------------------------------------------


def test_role_change_is_confirmed_and_audited(live):
    holder = console(live)
    uid = user_id(live, DEMO_USER)
    asked = _act(holder, uid, "role", confirm=False, role="admin")
    assert 'id="confirm-question"' in asked.text and 'id="new-role">管理者<' in asked.text
    assert console(live, DEMO_USER).get("/admin/users").status_code == 403  # not yet
    done = holder.submit({})
    assert path_of(done) == f"/admin/users/{uid}/role" and 'data-role="admin"' in done.text
    assert console(live, DEMO_USER).get("/admin/users").status_code == 200
    _act(holder, uid, "role", role="user")
    assert console(live, DEMO_USER).get("/admin/users").status_code == 403
    events = [
        (e.email, e.detail["target"], e.detail["before"], e.detail["after"])
        for e in audit_events(live, "user.role_changed")
    ]
    assert events == [(DEMO_HOLDER, DEMO_USER, "user", "admin"), (DEMO_HOLDER, DEMO_USER, "admin", "user")]


def test_deactivation_ends_sessions_and_tokens_and_reactivation_does_not_revive_them(live):
    add_admin(live)
    person = live.browser()
    signed = rp_sign_in(live, person, DEMO_USER, DEMO_PASSWORD)
    assert person.get("/account").status_code == 200
    admin = console(live, DEMO_ADMIN)
    uid = user_id(live, DEMO_USER)

    done = _act(admin, uid, "deactivate")
    assert 'data-status="disabled"' in done.text
    assert path_of(person.get("/account")) == "/account/login"
    assert refresh(live, signed.tokens["refresh_token"]).json()["error"] == "invalid_grant"
    assert userinfo(live, signed.tokens["access_token"]).status_code == 401
    assert introspect(live, signed.tokens["access_token"]) == {"active": False}
    assert sign_in(live.browser(), DEMO_USER).status_code == 401

    done = _act(admin, uid, "reactivate")
    assert 'data-status="active"' in done.text
    assert refresh(live, signed.tokens["refresh_token"]).json()["error"] == "invalid_grant"
    assert path_of(person.get("/account")) == "/account/login"
    assert path_of(sign_in(live.browser(), DEMO_USER)) == "/account"
    events = [(e.event, e.email, e.detail["target"]) for e in audit_events(live, "user.disabled", "user.reactivated")]
    assert events == [("user.disabled", DEMO_ADMIN, DEMO_USER), ("user.reactivated", DEMO_ADMIN, DEMO_USER)]


def test_reset_two_step_tells_the_user_and_the_next_sign_in_registers_again(live, mail):
    enrol_totp(live, DEMO_USER)
    holder = console(live)  # the demo tenant asks no second step; from now on it does
    set_tenant_mfa(live, True)
    uid = user_id(live, DEMO_USER)
    asked = _act(holder, uid, "reset-two-step", confirm=False)
    assert 'id="confirm-question"' in asked.text and is_enrolled(live, DEMO_USER)
    done = holder.submit({})
    assert 'data-two-step="no"' in done.text and not is_enrolled(live, DEMO_USER)
    message = mail.inbox.wait_for(DEMO_USER)
    assert message.subject == "【ワークストレージ】2段階認証の登録のリセット"
    assert path_of(sign_in(live.browser(), DEMO_USER)) == "/mfa/setup/sms"
    assert [e.email for e in audit_events(live, "user.two_step_reset")] == [DEMO_HOLDER]


def test_resend_gives_a_new_link_and_the_old_one_stops(live, mail):
    holder = console(live)
    invite(holder, INVITED)
    first = invitation_link(live, mail, INVITED)
    done = _act(holder, user_id(live, INVITED), "resend")
    assert 'id="action-done"' in done.text
    second = invitation_link(live, mail, INVITED, after=1)
    assert 'id="invitation-invalid"' in live.browser().get(first).text
    register(live, second)
    assert user_status(live, INVITED) == "active"
    assert 'id="resend"' not in holder.get(f"/admin/users/{user_id(live, INVITED)}").text


def test_deactivated_before_registering_the_link_dies(live, mail):
    holder = console(live)
    invite(holder, INVITED)
    link = invitation_link(live, mail, INVITED)
    uid = user_id(live, INVITED)
    _act(holder, uid, "deactivate")
    assert 'id="invitation-invalid"' in live.browser().get(link).text
    assert 'data-status="invited"' in _act(holder, uid, "reactivate").text
    _act(holder, uid, "resend")
    register(live, invitation_link(live, mail, INVITED, after=1))


def test_the_holder_and_oneself_are_not_changed_here(live):
    add_admin(live)
    admin = console(live, DEMO_ADMIN)
    for target in (DEMO_HOLDER, DEMO_ADMIN):
        uid = user_id(live, target)
        page = admin.get(f"/admin/users/{uid}")
        assert page.status_code == 200 and 'id="deactivate"' not in page.text
        csrf = parse_forms(admin.get("/admin/users/new").text)[0]["fields"]["csrf_token"]
        for action in ("deactivate", "role"):
            answer = admin.http.post(
                f"{live.url}/admin/users/{uid}/{action}",
                data={"csrf_token": csrf, "stage": "confirm", "role": "user"},
                timeout=10,
            )
            assert answer.status_code == 400 and 'id="action-error"' in answer.text, (target, action)
    assert user_status(live, DEMO_HOLDER) == "active" and user_status(live, DEMO_ADMIN) == "active"
    assert console(live, DEMO_ADMIN).get("/admin/users").status_code == 200


def test_actions_need_the_csrf_token(live):
    holder = console(live)
    uid = user_id(live, DEMO_USER)
    for action in ACTIONS:
        answer = holder.http.post(
            f"{live.url}/admin/users/{uid}/{action}", data={"stage": "confirm", "role": "admin"}, timeout=10
        )
        assert answer.status_code == 400, action
    assert user_status(live, DEMO_USER) == "active"
    assert not audit_events(live, "user.role_changed", "user.disabled")


# -- isolation ---------------------------------------------------------------------------


def test_another_tenants_users_are_404_everywhere(live):
    other_tenant(live, people=(("boss@other.example", Role.HOLDER), ("staff@other.example", Role.USER)))
    holder = console(live)
    csrf = parse_forms(holder.get("/admin/users/new").text)[0]["fields"]["csrf_token"]
    for email in ("boss@other.example", "staff@other.example"):
        uid = user_id(live, email)
        assert holder.get(f"/admin/users/{uid}").status_code == 404
        for action in ACTIONS:
            answer = holder.http.post(
                f"{live.url}/admin/users/{uid}/{action}",
                data={"csrf_token": csrf, "stage": "confirm", "role": "admin"},
                timeout=10,
            )
            assert answer.status_code == 404, (email, action)
    assert "other.example" not in holder.get("/admin/users?q=other").text
    assert "other.example" not in holder.get("/admin/users").text
    assert user_status(live, "staff@other.example") == "active"
    assert not audit_events(live, "user.role_changed", "user.disabled", "user.invitation_resent")
    # And the other way round.
    other = console(live, "boss@other.example")
    assert other.get(f"/admin/users/{user_id(live, DEMO_USER)}").status_code == 404


def test_a_plain_user_is_refused_everywhere(live):
    browser = console(live, DEMO_USER)
    uid = user_id(live, DEMO_HOLDER)
    for path in ("/admin", "/admin/users", "/admin/users/new", f"/admin/users/{uid}"):
        assert browser.get(path).status_code == 403, path
    csrf = parse_forms(browser.get("/account").text)[0]["fields"]["csrf_token"]
    for path in ("/admin/users/new", *(f"/admin/users/{uid}/{a}" for a in ACTIONS)):
        posted = browser.http.post(live.url + path, data={"csrf_token": csrf, "email": "x@demo.example"}, timeout=10)
        assert posted.status_code == 403, path


def test_signed_out_goes_to_the_login(live):
    assert path_of(live.browser().get("/admin/users")) == "/login"


def test_the_console_refuses_a_session_the_line_policy_refuses(live):
    """A holder signed in from the internet; the tenant becomes line-only: the
    console answers the line error at the next page."""
    holder = console(live)
    assert holder.get("/admin/users").status_code == 200
    set_route(live, "line-only")
    page = holder.get("/admin/users")
    assert page.status_code == 403 and "回線認証" in text_of(page.text)
    assert holder.get(f"/admin/users/{user_id(live, DEMO_USER)}").status_code == 403


def test_unknown_actions_and_ids_are_404(live):
    holder = console(live)
    assert holder.get("/admin/users/nobody").status_code == 404
    assert holder.get("/admin/users/" + "x" * 300).status_code == 404
    detail = holder.get(f"/admin/users/{user_id(live, DEMO_USER)}")
    csrf = parse_forms(detail.text)[0]["fields"]["csrf_token"]
    answer = holder.http.post(
        f"{live.url}/admin/users/{user_id(live, DEMO_USER)}/delete", data={"csrf_token": csrf}, timeout=10
    )
    assert answer.status_code == 404
