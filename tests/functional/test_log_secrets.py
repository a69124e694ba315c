"""No password, code, token, ticket or cookie value reaches a log line: a real
sign-in with code exchange and refresh, a password reset link and an invitation
link against gunicorn writing its whole output (application and access log) to
a file, which is then searched for every one of them."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

from ..account_steps import NEW_PASSWORD
from ..invite_steps import NEW_PASSWORD as INVITED_PASSWORD
from ..invite_steps import console, invitation_link, invite, register
from ..mfa_steps import mail_link
from ..rp import DEMO_PASSWORD, DEMO_SECRET, DEMO_USER, callback_params
from ..secrets import leaks
from ..served import gunicorn

INVITED = "invited@demo.example"


def ticket_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["ticket"][0]


def test_no_secret_reaches_the_logs(database_url, tmp_path, key_template, mail):
    with gunicorn(database_url, tmp_path, key_template, IDP_SMTP_URL=mail.url) as served:
        live = served.live
        rp = live.rp()
        browser = live.browser()
        callback = callback_params(browser.login(rp.authorization_url()))
        token = rp.exchange(callback)
        refreshed = rp.refresh(token["refresh_token"])
        assert rp.userinfo(refreshed["access_token"]).status_code == 200

        browser.get("/password/forgot")
        assert 'id="forgot-sent"' in browser.submit({"email": DEMO_USER}).text
        reset_link = mail_link(live, mail)
        resetting = live.browser()
        resetting.get(reset_link)
        done = resetting.submit({"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
        assert 'id="reset-done"' in done.text

        holder = console(live)
        invite(holder, INVITED)
        invite_link = invitation_link(live, mail, INVITED)
        register(live, invite_link, INVITED_PASSWORD)

        cookies = [c.value for b in (browser, resetting, holder) for c in b.http.cookies]
    text = served.log_text()
    secrets = {
        "password": DEMO_PASSWORD,
        "new password": NEW_PASSWORD,
        "invited password": INVITED_PASSWORD,
        "client secret": DEMO_SECRET,
        "code": callback["code"],
        "code verifier": rp.verifier,
        "access token": token["access_token"],
        "id token": token["id_token"],
        "refresh token": token["refresh_token"],
        "new refresh token": refreshed["refresh_token"],
        "reset ticket": ticket_of(reset_link),
        "invitation ticket": ticket_of(invite_link),
        **{f"cookie {i}": value for i, value in enumerate(cookies)},
    }
    assert not leaks([served.log], secrets.values()), [k for k, v in secrets.items() if v in text]
    assert "ticket=" not in text and "code=" not in text
    # The search looked at real lines: the JSON request lines, audit events and the access log.
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    paths = {line.get("path") for line in lines if line["logger"] == "idp.request"}
    assert {"/token", "/userinfo", "/password/reset", "/register", "/login"} <= paths, paths
    events = {line.get("event") for line in lines if line["logger"] == "idp.audit"}
    assert {"login.success", "password.reset", "user.invited", "user.registered"} <= events, events
    assert '"POST /token" 200' in text
