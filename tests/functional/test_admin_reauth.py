"""The admin console's changes ask for the password again once it was given more
than five minutes ago: a stolen cookie alone must not invite its thief, change a
role or reset a colleague's sign-in. The re-authentication page leads back only
to pages of ours that ask for it."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from idp import clock

from ..invite_steps import console, user_id
from ..mfa_steps import DEMO_ADMIN, add_admin, audit_events, post_form
from ..rp import DEMO_PASSWORD, DEMO_USER, parse_forms

LATER = timedelta(minutes=6)
THIEF = "thief@evil.example"


def _asked_again(answer, back_to: str) -> None:  # type: ignore[no-untyped-def]
    assert answer.status_code == 302, answer.status_code
    location = urlsplit(answer.headers["Location"])
    assert location.path == "/account/reauthenticate"
    assert parse_qs(location.query)["next"] == [back_to]


def test_an_invitation_from_an_old_sign_in_asks_for_the_password(live, mail):
    holder = console(live)
    holder.get("/admin/users/new")
    clock.advance(LATER)
    answer = post_form(holder, {"email": THIEF, "name": "", "role": "admin"})
    _asked_again(answer, "/admin/users/new")
    assert audit_events(live, "user.invited") == [] and mail.inbox.count(THIEF) == 0

    holder.get(answer.headers["Location"])
    back = post_form(holder, {"password": DEMO_PASSWORD})
    assert back.headers["Location"] == "/admin/users/new"
    holder.get("/admin/users/new")
    page = holder.submit({"email": THIEF, "name": "", "role": "user"})
    assert page.status_code == 200 and mail.inbox.wait_for(THIEF)


def test_an_action_on_a_user_from_an_old_sign_in_changes_nothing(live):
    add_admin(live)
    holder = console(live)
    uid = user_id(live, DEMO_ADMIN)
    detail = holder.get(f"/admin/users/{uid}")
    index = next(i for i, f in enumerate(parse_forms(detail.text)) if f["action"].endswith("/role"))
    clock.advance(LATER)
    _asked_again(post_form(holder, {}, form_index=index), f"/admin/users/{uid}")
    assert audit_events(live, "user.role_changed") == []


@pytest.mark.parametrize(
    "way_back",
    ["//evil.example/x", "/\\evil.example/x", "https://evil.example/", "/nowhere", "/account/password"],
)
def test_the_way_back_is_only_a_page_that_asks(live, way_back):
    holder = console(live)
    holder.get("/account/reauthenticate", params={"next": way_back})
    assert post_form(holder, {"password": DEMO_PASSWORD}).headers["Location"] == "/account"


def test_a_plain_user_is_still_refused_first(live):
    user = console(live, DEMO_USER)
    user.get("/account")
    answer = user.http.post(live.url + "/admin/users/new", data={}, allow_redirects=False, timeout=10)
    assert answer.status_code == 403
