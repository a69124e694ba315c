"""Registering line numbers (manual §4.2) in the admin console — holders and admins
only — and with `idp tenant lines`; the access route with `idp tenant set`.
Every refusal says why, and every change is audited."""

from __future__ import annotations

import subprocess

import pytest
import requests
from click.testing import Result

from ..conftest import Live
from ..console import idp
from ..line_steps import COP_LINE, LINE, line_browser, register_line, serve, set_mfa, tenant_state
from ..mfa_steps import DEMO_ADMIN, add_admin, audit_events, path_of, sign_in
from ..rp import DEMO_HOLDER, DEMO_PASSWORD, DEMO_USER, Browser, parse_forms, text_of

ADMIN = DEMO_ADMIN
EXPIRED = "画面の有効期限が切れました。もう一度入力してください。"


@pytest.fixture
def live(database_url, tmp_path, key_template, mail, sms):
    yield from serve(database_url, tmp_path, key_template, mail, sms)


def _console(live: Live, email: str, lang: str = "ja") -> Browser:
    browser = live.browser()
    assert path_of(sign_in(browser, email)) == "/account"
    browser.get(f"/admin/lines?lang={lang}")
    return browser


def _add(browser: Browser, number: str) -> requests.Response:
    return browser.submit({"number": number})


def _listed(page_html: str) -> list[str]:
    return [form["fields"]["number"] for form in parse_forms(page_html)[1:]]


# -- the admin console --------------------------------------------------------------


@pytest.mark.parametrize("email", [DEMO_HOLDER, ADMIN])
def test_holders_and_admins_register_and_remove(live, email):
    add_admin(live)
    browser = _console(live, email)
    page = _add(browser, "caf-0123-456-789")
    assert page.status_code == 200 and 'id="line-added"' in page.text
    page = _add(browser, "COP 0123 4567")
    assert _listed(page.text) == [LINE, COP_LINE] == tenant_state(live).numbers

    remove = next(i for i, f in enumerate(parse_forms(page.text)) if f["fields"].get("number") == LINE)
    assert {"csrf_token", "number"} <= set(parse_forms(page.text)[remove]["fields"])
    page = browser.submit({}, form_index=remove)
    assert path_of(page) == "/admin/lines" and _listed(page.text) == [COP_LINE]
    assert tenant_state(live).numbers == [COP_LINE]

    events = [(e.event, e.email, e.detail) for e in audit_events(live, "tenant.line_added", "tenant.line_removed")]
    assert events == [
        ("tenant.line_added", email, {"number": LINE, "via": "admin_console"}),
        ("tenant.line_added", email, {"number": COP_LINE, "via": "admin_console"}),
        ("tenant.line_removed", email, {"number": LINE, "via": "admin_console"}),
    ]


TOO_LONG = LINE + " " * 60 + "X"  # valid once cut short: refused whole
SHAPE = {
    "ja": "回線番号はCAFで始まる英数13桁の番号、またはCOPで始まる英数11桁の番号です。",
    "en": "A line number is CAF followed by 10 letters or digits, or COP followed by 8.",
}
REFUSALS = {
    "ja": {
        "": "回線番号を入力してください。",
        "XYZ0123456789": "回線番号はCAFまたはCOPで始まる番号です。",
        "CAF012345": SHAPE["ja"],
        TOO_LONG: SHAPE["ja"],
        "caf0123456789": "この回線番号はすでに登録されています。",
    },
    "en": {
        "": "Enter a line number.",
        "XYZ0123456789": "A line number starts with CAF or COP.",
        "CAF012345": SHAPE["en"],
        TOO_LONG: SHAPE["en"],
        "caf0123456789": "This line number is already registered.",
    },
}


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_each_refusal_says_why(live, lang):
    register_line(live)
    browser = _console(live, DEMO_HOLDER, lang)
    for typed, reason in REFUSALS[lang].items():
        page = _add(browser, typed)
        assert page.status_code == 400, typed
        assert reason in text_of(page.text), (typed, text_of(page.text))
    assert tenant_state(live).numbers == [LINE]
    assert len(audit_events(live, "tenant.line_added")) == 1  # the one registered above


def test_an_expired_form_is_refused_and_says_so(live):
    browser = _console(live, DEMO_HOLDER)
    answer = browser.http.post(live.url + "/admin/lines", data={"number": LINE, "csrf_token": "x"}, timeout=10)
    assert answer.status_code == 400 and EXPIRED in text_of(answer.text)
    assert tenant_state(live).numbers == []


def test_a_plain_user_is_refused(live):
    browser = live.browser()
    sign_in(browser)
    assert 'id="menu-admin-lines"' not in browser.get("/account").text
    assert browser.get("/admin").status_code == 403
    assert browser.get("/admin/lines").status_code == 403
    csrf = parse_forms(browser.get("/account").text)[0]["fields"]["csrf_token"]
    posted = browser.http.post(live.url + "/admin/lines", data={"number": LINE, "csrf_token": csrf}, timeout=10)
    assert posted.status_code == 403
    assert tenant_state(live).numbers == []


def test_signed_out_goes_to_the_login(live):
    assert path_of(live.browser().get("/admin/lines")) == "/login"


def test_the_console_over_a_line_of_a_line_only_tenant(live):
    """Over a registered line the console works for a line-only tenant too."""
    register_line(live)
    _in_process(live, "tenant", "set", "demo", "--access-route", "line-only")
    browser = line_browser(live)
    assert path_of(sign_in(browser, DEMO_HOLDER)) == "/account"
    page = browser.get("/admin/lines")
    assert page.status_code == 200 and "回線認証のみ" in text_of(page.text)


# -- the command line ------------------------------------------------------------------


def _idp(live: Live, *args: str) -> subprocess.CompletedProcess[str]:
    """The installed console script, against the live provider's database."""
    return idp(live.settings, *args)


def _in_process(live: Live, *args: str) -> Result:
    """The same commands in-process (starting the console script costs seconds)."""
    with live.app.app_context():
        return live.app.test_cli_runner().invoke(args=list(args))


def test_the_console_script_adds_and_lists(live):
    added = _idp(live, "tenant", "lines", "demo", "add", "caf-0123-456-789")
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == f"added {LINE}"
    _in_process(live, "tenant", "lines", "demo", "add", COP_LINE)

    listed = _idp(live, "tenant", "lines", "demo")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split() == [LINE, COP_LINE]
    assert [e.detail for e in audit_events(live, "tenant.line_added")] == [
        {"number": LINE, "via": "cli"},
        {"number": COP_LINE, "via": "cli"},
    ]


@pytest.mark.parametrize(
    ("args", "why"),
    [
        (("add", "XYZ0123456789"), "starts with CAF or COP"),
        (("add", "CAF123"), "CAF is followed by 10 letters or digits, COP by 8"),
        (("add", "  "), "enter a line number"),
        (("add", LINE.lower()), f"{LINE} is already registered"),
        (("remove", "COP01234567"), "COP01234567 is not registered"),
        (("add",), "give the line number to add"),
    ],
)
def test_the_command_refuses_in_one_line(live, args, why):
    register_line(live)
    refused = _in_process(live, "tenant", "lines", "demo", *args)
    assert refused.exit_code != 0
    assert len(refused.output.strip().splitlines()) == 1 and why in refused.output
    assert tenant_state(live).numbers == [LINE]


def test_the_command_removes(live):
    register_line(live)
    done = _in_process(live, "tenant", "lines", "demo", "remove", "caf 0123 456 789")
    assert done.exit_code == 0 and done.output.strip() == f"removed {LINE}"
    assert tenant_state(live).numbers == []
    assert _in_process(live, "tenant", "lines", "demo").output == ""
    (removed,) = audit_events(live, "tenant.line_removed")
    assert removed.detail == {"number": LINE, "via": "cli"}


def test_an_unknown_tenant(live):
    refused = _in_process(live, "tenant", "lines", "nosuch")
    assert refused.exit_code != 0 and "nosuch" in refused.output


def test_set_line_only_turns_two_step_off_and_refuses_it_back(live):
    set_mfa(live, True)
    done = _in_process(live, "tenant", "set", "demo", "--access-route", "line-only")
    assert done.exit_code == 0 and done.output.strip() == "demo: mfa off, access route line-only"
    assert tenant_state(live).access_route == "line-only" and tenant_state(live).mfa_enabled is False

    refused = _in_process(live, "tenant", "set", "demo", "--mfa", "on")
    assert refused.exit_code != 0 and len(refused.output.strip().splitlines()) == 1
    assert "line-only" in refused.output and tenant_state(live).mfa_enabled is False

    # Both at once: the route back first, which already puts two-step back on
    # as it was before line-only; "--mfa on" then has nothing left to change.
    both = _in_process(live, "tenant", "set", "demo", "--access-route", "line+internet", "--mfa", "on")
    assert both.exit_code == 0 and both.output.strip() == "demo: mfa on, access route line+internet"

    changes = [
        (e.event, e.detail)
        for e in audit_events(live, "tenant.access_route_changed", "tenant.mfa_changed")
        if e.detail["via"] == "cli"
    ]
    assert changes == [
        ("tenant.access_route_changed", {"route": "line-only", "via": "cli"}),
        ("tenant.mfa_changed", {"enabled": False, "via": "cli", "reason": "line-only"}),
        ("tenant.access_route_changed", {"route": "line+internet", "via": "cli"}),
        ("tenant.mfa_changed", {"enabled": True, "via": "cli", "reason": "line+internet"}),
    ]


def test_set_line_only_and_two_step_on_together_changes_nothing(live):
    refused = _in_process(live, "tenant", "set", "demo", "--access-route", "line-only", "--mfa", "on")
    assert refused.exit_code != 0
    assert tenant_state(live).access_route == "line+internet"
    assert audit_events(live, "tenant.access_route_changed") == []


def test_setting_the_same_route_again_records_nothing(live):
    assert _in_process(live, "tenant", "set", "demo", "--access-route", "line+internet").exit_code == 0
    assert audit_events(live, "tenant.access_route_changed") == []


def test_the_console_script_sets_line_only_and_sign_ins_follow(live):
    register_line(live)
    done = _idp(live, "tenant", "set", "demo", "--access-route", "line-only")
    assert done.returncode == 0, done.stderr
    page = sign_in(live.browser(), DEMO_USER, DEMO_PASSWORD)
    assert page.status_code == 403
    assert path_of(sign_in(line_browser(live), DEMO_USER, DEMO_PASSWORD)) == "/account"
