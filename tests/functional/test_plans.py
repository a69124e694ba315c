"""Manual §0 ※1 ※2: a trial ends by itself; its people are refused everywhere from
then on (the login, a reused browser session, the code exchange, a refresh,
userinfo, introspection), while its holder may still sign in, to the plan
change only, for the grace days, and a plan change brings back everything
issued before. After the grace days the trial counts as cancelled. A basic
holder cancels from the menu, and the contract's sessions and tokens stop at
their next use. Cancelled tenants are removed after the days they are kept."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from idp import clock

from ..conftest import Live
from ..mfa_steps import DEMO_ADMIN, add_admin, audit_events, path_of, sign_in
from ..plan_steps import (
    TRIAL,
    TRIAL_HOLDER,
    TRIAL_USER,
    cli,
    days,
    emails_of,
    notice_to,
    tenant_named,
    trial_tenant,
)
from ..rp import DEMO_HOLDER, DEMO_PASSWORD, DEMO_USER, Browser, callback_params, code_from, text_of
from ..transports import MailServer
from .helpers import authorize_url, introspect, redeem, refresh, userinfo

TRIAL_ENDED_JA = "ご契約の無料トライアル期間が終了したため、ログインできません。"
CANCELLED_JA = "ご契約は解約済みのため、ログインできません。"
PLAN_SUBJECT = "【ワークストレージ】プラン変更のお知らせ"
CANCEL_SUBJECT = "【ワークストレージ】解約のお知らせ"
CONTRACT_SUBJECT = "【ワークストレージ】契約情報変更のお知らせ"
CONSEQUENCES_JA = (
    "解約すると、ご契約内のすべてのユーザがログインできなくなります。",
    "ご契約のユーザ情報および設定は、解約の30日後に削除されます。",
)


@dataclass
class Issued:
    """What a sign-in through a relying party left behind: the browser's session,
    tokens, and a code not redeemed yet."""

    browser: Browser
    tokens: dict[str, Any]
    pending_code: str


def _issue(live: Live, email: str) -> Issued:
    browser = live.browser()
    code = code_from(browser.login(authorize_url(live), email, DEMO_PASSWORD))
    answer = redeem(live, code)
    assert answer.status_code == 200, answer.text
    pending = code_from(browser.get(authorize_url(live)))  # the session answers at once
    return Issued(browser, answer.json(), pending)


def _all_refused(live: Live, issued: Issued) -> None:
    prompt_none = callback_params(issued.browser.get(authorize_url(live, prompt="none")))
    assert prompt_none["error"] == "login_required" and prompt_none["iss"] == live.url
    assert path_of(issued.browser.get(authorize_url(live))) == "/login"
    exchange = redeem(live, issued.pending_code)
    assert exchange.status_code == 400 and exchange.json()["error"] == "invalid_grant"
    renewed = refresh(live, issued.tokens["refresh_token"])
    assert renewed.status_code == 400 and renewed.json()["error"] == "invalid_grant"
    info = userinfo(live, issued.tokens["access_token"])
    assert info.status_code == 401 and 'error="invalid_token"' in info.headers["WWW-Authenticate"]
    assert introspect(live, issued.tokens["access_token"]) == {"active": False}
    assert introspect(live, issued.tokens["refresh_token"]) == {"active": False}


def _all_honoured(live: Live, issued: Issued) -> None:
    """The same uses succeed (the control, and the way back)."""
    assert "code" in callback_params(issued.browser.get(authorize_url(live, prompt="none")))
    assert userinfo(live, issued.tokens["access_token"]).status_code == 200
    assert introspect(live, issued.tokens["access_token"])["active"] is True
    assert introspect(live, issued.tokens["refresh_token"])["active"] is True


def _standing(live: Live, name: str) -> str:
    shown = cli(live, "tenant", "show", name)
    assert shown.exit_code == 0, shown.output
    return next(line.split(": ", 1)[1] for line in shown.output.splitlines() if line.startswith("status: "))


# -- a trial ends, and its holder changes the plan within the grace days ------------------


def test_a_trial_ends_and_its_holder_brings_it_back_with_the_basic_plan(live: Live, mail: MailServer):
    trial_tenant(live)
    during = live.browser()
    assert path_of(sign_in(during, TRIAL_HOLDER)) == "/account"
    # Half a minute before the trial ends (codes live a minute, access tokens ten).
    clock.advance(days(live.settings.trial_days) - timedelta(seconds=30))
    issued = _issue(live, TRIAL_USER)
    _all_honoured(live, issued)

    clock.advance(timedelta(seconds=40))
    assert _standing(live, TRIAL) == "trial-ended"
    _all_refused(live, issued)
    refused = sign_in(live.browser(), TRIAL_USER)
    assert refused.status_code == 403 and TRIAL_ENDED_JA in text_of(refused.text)
    assert "トライアル期間終了後15日以内であれば、基本プランへのプラン変更が可能です。" in text_of(refused.text)
    (event,) = audit_events(live, "login.refused")
    assert event.email == TRIAL_USER and event.detail["reason"] == "trial_ended"

    # The holder's sign-in, even on a relying party's behalf, leads to the plan change only.
    holder = live.browser()
    page = holder.login(authorize_url(live), TRIAL_HOLDER, DEMO_PASSWORD)
    assert path_of(page) == "/account/plan" and page.status_code == 200
    assert "無料トライアル期間は" in page.text and 'id="trial-ended"' in page.text
    for elsewhere in ("/account", "/account/mfa", "/account/access-route", "/account/contract"):
        assert path_of(holder.get(elsewhere)) == "/account/login", elsewhere
    assert path_of(holder.get("/admin/lines")) == "/login"
    assert path_of(holder.get(authorize_url(live))) == "/login"

    holder.get("/account/plan")
    confirm = holder.submit({"plan": "basic"})
    assert 'id="plan-confirm"' in confirm.text and _standing(live, TRIAL) == "trial-ended"
    done = holder.submit({})
    assert "基本プランへのプラン変更が完了しました。" in text_of(done.text)
    assert _standing(live, TRIAL) == "active"
    shown = cli(live, "tenant", "show", TRIAL).output
    assert "plan: basic" in shown and "trial end: -" in shown

    # Everything issued before works again, for everyone.
    _all_honoured(live, issued)
    assert refresh(live, issued.tokens["refresh_token"]).status_code == 200
    assert path_of(sign_in(live.browser(), TRIAL_USER)) == "/account"
    assert path_of(holder.get("/account")) == "/account"
    assert "変更後: 基本プラン" in notice_to(mail, TRIAL_HOLDER, PLAN_SUBJECT).body
    (changed,) = audit_events(live, "tenant.plan_changed")
    assert changed.email == TRIAL_HOLDER and changed.detail["standing"] == "trial-ended"
    assert changed.detail["via"] == "account_menu"


def test_a_running_trial_changes_to_basic_from_the_menu(live: Live):
    trial_tenant(live)
    holder = live.browser()
    sign_in(holder, TRIAL_HOLDER)
    page = holder.get("/account/plan")
    assert 'id="trial-ends"' in page.text and 'id="trial-ended"' not in page.text
    holder.submit({"plan": "basic"})
    assert "基本プランへのプラン変更が完了しました。" in text_of(holder.submit({}).text)
    # The trial's end no longer applies.
    clock.advance(days(live.settings.trial_days + live.settings.plan_change_grace_days + 1))
    assert _standing(live, TRIAL) == "active"
    assert path_of(sign_in(live.browser(), TRIAL_USER)) == "/account"


def test_after_the_grace_days_the_trial_is_cancelled_and_later_removed(live: Live):
    trial_tenant(live)
    grace, keep = live.settings.plan_change_grace_days, live.settings.keep_cancelled_days
    clock.advance(days(live.settings.trial_days + grace) + timedelta(minutes=1))
    assert _standing(live, TRIAL) == "cancelled"
    for email in (TRIAL_HOLDER, TRIAL_USER):
        refused = sign_in(live.browser(), email)
        assert refused.status_code == 403 and CANCELLED_JA in text_of(refused.text)
    late = cli(live, "tenant", "plan", TRIAL, "basic")
    assert late.exit_code != 0 and "cancelled" in late.output and _standing(live, TRIAL) == "cancelled"

    clock.advance(days(keep) - timedelta(minutes=2))  # kept: a minute short of the days kept
    assert "purged 0 tenant(s)" in cli(live, "tenant", "purge").output
    assert emails_of(live, TRIAL) == [TRIAL_HOLDER, TRIAL_USER]
    clock.advance(timedelta(minutes=2))
    purged = cli(live, "tenant", "purge")
    assert purged.exit_code == 0 and f"removed {TRIAL}" in purged.output
    assert tenant_named(live, TRIAL) is None and emails_of(live, TRIAL) == []
    assert emails_of(live, "demo") == [DEMO_HOLDER, DEMO_USER]
    (event,) = audit_events(live, "tenant.purged")
    assert event.detail["name"] == TRIAL


# -- a basic holder cancels -----------------------------------------------------------------


def test_a_basic_holder_cancels_and_everything_stops_at_its_next_use(live: Live, mail: MailServer):
    add_admin(live)
    issued = _issue(live, DEMO_USER)
    holder = live.browser()
    assert path_of(sign_in(holder, DEMO_HOLDER)) == "/account"

    page = holder.get("/account/cancel")
    assert page.status_code == 200 and all(text in text_of(page.text) for text in CONSEQUENCES_JA)
    assert "上記の説明を確認しました。" in text_of(page.text)
    unconfirmed = holder.submit({})
    assert unconfirmed.status_code == 400 and "にチェックしてください" in text_of(unconfirmed.text)
    _all_honoured(live, issued)
    assert _standing(live, "demo") == "active"

    done = holder.submit({"confirmed": "y"})
    assert done.status_code == 200 and "解約が完了しました。" in text_of(done.text)
    assert _standing(live, "demo") == "cancelled"
    _all_refused(live, issued)
    assert path_of(holder.get("/account")) == "/account/login"
    for email in (DEMO_USER, DEMO_HOLDER):
        refused = sign_in(live.browser(), email)
        assert refused.status_code == 403 and CANCELLED_JA in text_of(refused.text)
    for to in (DEMO_HOLDER, DEMO_ADMIN):
        assert "解約されました" in notice_to(mail, to, CANCEL_SUBJECT).body
    (event,) = audit_events(live, "tenant.cancelled")
    assert event.email == DEMO_HOLDER and event.detail["grants_revoked"] >= 1


def test_the_daily_pass_removes_a_cancelled_tenant_once_its_days_are_kept(live: Live):
    trial_tenant(live)
    _issue(live, DEMO_USER)  # a session, codes, a grant and tokens go with the user
    cancelled = cli(live, "tenant", "cancel", "demo")
    assert cancelled.exit_code == 0, cancelled.output
    keep = days(live.settings.keep_cancelled_days)

    def a_page_is_served() -> None:
        assert live.browser().get("/login").status_code == 200

    a_page_is_served()  # today's pass: nothing to remove
    clock.advance(keep - timedelta(minutes=1))
    a_page_is_served()  # a pass more than a day later: still kept
    assert emails_of(live, "demo") == [DEMO_HOLDER, DEMO_USER]
    clock.advance(timedelta(minutes=2))
    a_page_is_served()  # removable now, but the pass already ran today
    assert tenant_named(live, "demo") is not None
    clock.advance(days(1))
    a_page_is_served()
    assert tenant_named(live, "demo") is None and emails_of(live, "demo") == []
    assert tenant_named(live, TRIAL) is not None  # a trial within its grace days stays


# -- who may use the pages -------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/account/plan", "/account/cancel", "/account/contract"])
def test_forbidden_for_anyone_but_the_holder(live: Live, path: str):
    add_admin(live)
    for email in (DEMO_USER, DEMO_ADMIN):
        browser = live.browser()
        sign_in(browser, email)
        answer = browser.get(path)
        assert answer.status_code == 403 and "このページはご利用いただけません" in text_of(answer.text), email


@pytest.mark.parametrize("path", ["/account/cancel", "/account/contract"])
def test_forbidden_for_a_trial_holder(live: Live, path: str):
    """Manual §0 ※2: a trial is not cancelled, it ends; its contract details are not kept."""
    trial_tenant(live)
    holder = live.browser()
    sign_in(holder, TRIAL_HOLDER)
    assert holder.get(path).status_code == 403
    assert holder.http.post(live.url + path, data={"confirmed": "y"}, timeout=10).status_code == 403
    assert _standing(live, TRIAL) == "active"


def test_a_basic_holder_has_no_plan_to_change_to(live: Live):
    holder = live.browser()
    sign_in(holder, DEMO_HOLDER)
    page = holder.get("/account/plan")
    assert page.status_code == 200 and 'id="plan-basic"' in page.text and "plan-submit" not in page.text


@pytest.mark.parametrize("path", ["/account/plan", "/account/cancel"])
def test_plan_change_and_cancellation_ask_for_the_password_after_five_minutes(live: Live, path: str):
    trial_tenant(live)
    email = TRIAL_HOLDER if path.endswith("plan") else DEMO_HOLDER
    holder = live.browser()
    sign_in(holder, email)
    first = holder.get(path)
    assert path_of(first) == path
    clock.advance(timedelta(minutes=6))
    # The page's post from before, now: asked for the password, and nothing changes.
    answer = holder.submit({"plan": "basic", "stage": "confirm", "confirmed": "y"})
    assert path_of(answer) == "/account/reauthenticate"
    assert _standing(live, TRIAL) == "active" and _standing(live, "demo") == "active"
    assert audit_events(live, "tenant.plan_changed", "tenant.cancelled") == []
    shown = cli(live, "tenant", "show", TRIAL).output
    assert "plan: trial" in shown
    answer = holder.submit({"password": DEMO_PASSWORD})
    assert answer.status_code == 200
    assert path_of(holder.get(path)) == path  # given again: straight in


# -- contract details ------------------------------------------------------------------------


def _details_page(live: Live) -> Browser:
    holder = live.browser()
    sign_in(holder, DEMO_HOLDER)
    page = holder.get("/account/contract")
    assert page.status_code == 200 and 'name="company_name"' in page.text
    return holder


def _stored(live: Live) -> tuple[str, str, str]:
    tenant = tenant_named(live, "demo")
    assert tenant is not None
    return tenant.company_name, tenant.contact_name, tenant.contact_phone


def test_the_holder_saves_the_contract_details(live: Live, mail: MailServer):
    add_admin(live)
    holder = _details_page(live)
    saved = holder.submit(
        {"company_name": " 株式会社 デモ ", "contact_name": "山田 太郎", "contact_phone": "０３－１２３４－５６７８"}
    )
    assert saved.status_code == 200 and "契約情報を変更しました。" in text_of(saved.text)
    assert _stored(live) == ("株式会社 デモ", "山田 太郎", "03-1234-5678")
    assert 'value="株式会社 デモ"' in saved.text
    for to in (DEMO_HOLDER, DEMO_ADMIN):
        assert "電話番号: 03-1234-5678" in notice_to(mail, to, CONTRACT_SUBJECT).body
    (event,) = audit_events(live, "tenant.contract_changed")
    assert event.detail["fields"] == ["company_name", "contact_name", "contact_phone"]

    again = holder.submit({})  # the same values: nothing changes, nothing is announced
    assert again.status_code == 200 and len(audit_events(live, "tenant.contract_changed")) == 1


@pytest.mark.parametrize(
    ("fields", "error_id", "message"),
    [
        ({"company_name": ""}, "company_name-error", "入力してください。"),
        ({"contact_name": "あ" * 101}, "contact_name-error", "入力された文字数が上限を超えています。"),
        ({"company_name": "Demo\u202eInc"}, "company_name-error", "使用できない文字が含まれています。"),
        ({"contact_phone": "03-1234-abcd"}, "contact_phone-error", "半角数字とハイフンで入力してください"),
        ({"contact_phone": "٠٣-١٢٣٤-٥٦٧٨"}, "contact_phone-error", "半角数字とハイフンで入力してください"),
        ({"contact_phone": "03-1234-567"}, "contact_phone-error", "10桁から15桁"),
        ({"contact_phone": "0" * 21}, "contact_phone-error", "入力された文字数が上限を超えています。"),
    ],
    ids=["empty", "too-long", "control", "letters", "other-digits", "too-few-digits", "phone-too-long"],
)
def test_contract_details_are_checked(live: Live, fields: dict[str, str], error_id: str, message: str):
    holder = _details_page(live)
    good = {"company_name": "Demo Inc.", "contact_name": "Taro Yamada", "contact_phone": "+81 3-1234-5678"}
    refused = holder.submit({**good, **fields})
    assert refused.status_code == 400 and f'id="{error_id}"' in refused.text
    assert message in text_of(refused.text)
    assert _stored(live) == ("", "", "")
    assert audit_events(live, "tenant.contract_changed") == []


def test_contract_details_need_the_csrf_token(live: Live):
    holder = _details_page(live)
    fields = {"company_name": "Demo Inc.", "contact_name": "Taro Yamada", "contact_phone": "03-1234-5678"}
    forged = holder.http.post(live.url + "/account/contract", data=fields, timeout=10)
    assert forged.status_code == 400 and _stored(live) == ("", "", "")


def test_a_plan_change_without_a_plan_or_the_csrf_token_changes_nothing(live: Live):
    trial_tenant(live)
    holder = live.browser()
    sign_in(holder, TRIAL_HOLDER)
    holder.get("/account/plan")
    unknown = holder.submit({"plan": "gold", "stage": "confirm"})
    assert unknown.status_code == 400 and "変更後のプランを選択してください。" in text_of(unknown.text)
    forged = holder.http.post(live.url + "/account/plan", data={"plan": "basic", "stage": "confirm"}, timeout=10)
    assert forged.status_code == 400 and 'id="plan-error"' in forged.text
    assert audit_events(live, "tenant.plan_changed") == [] and _standing(live, TRIAL) == "active"
    assert "plan: trial" in cli(live, "tenant", "show", TRIAL).output
