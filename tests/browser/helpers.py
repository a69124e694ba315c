"""Steps shared by the browser journeys: signing in through the pages, enrolling an
authenticator, and the texts a person reads, in Japanese and in English."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from ..conftest import Live
from ..mfa_steps import secret_from_uri, totp_code
from ..rp import DEMO_PASSWORD, DEMO_USER

RECOVERY_CODE = re.compile(r"[A-Z2-9]{5}(-[A-Z2-9]{5}){3}")

TEXT = {
    "ja": {
        "login": "ログイン",
        "menu": "認証・契約情報変更メニュー",
        "two_step": "2段階認証",
        "wrong_password": "メールアドレスまたはパスワードが正しくありません。",
        # Manual §6, word for word.
        "locked": "ログインを複数回連続して試行したため、アカウントがブロックされました。"
        "ブロック解除の為のメールをお送りしましたのでご確認ください。",
        "unlocked": "アカウントロックを解除しました。ログインできます。",
        "link_invalid": "URLの有効期限が切れているか、すでに使用されています。",
        "totp_wrong": "認証コードが正しくありません。",
        "recovery_wrong": "リカバリーコードが正しくありません。",
        "too_short": "パスワードは8文字以上で設定してください。",
        "too_few_kinds": "英大文字、英小文字、数字、記号から3種類以上を含めてください。",
        "mismatch": "確認用パスワードが一致しません。",
        "reset_done": "リセットパスワードの手続きが完了いたしました。",
        "policy_menu": "2段階認証設定",
        "policy_warning": "※2段階認証を無効にする場合、第三者による不正ログインのリスクが高まります。",
        "policy_checkbox": "上記の説明を確認しました。",
        "policy_unchecked": "「上記の説明を確認しました。」にチェックしてください。",
        "policy_on": "2段階認証を有効にしました。",
        "policy_off": "2段階認証を無効にしました。",
    },
    "en": {
        "login": "Log in",
        "menu": "Account menu",
        "two_step": "Two-step verification",
        "wrong_password": "The email address or password is incorrect.",
        "locked": "Your account has been blocked because of repeated failed login attempts. "
        "We have sent you a mail to unblock it; please check it.",
        "unlocked": "Your account has been unlocked. You can log in again.",
        "link_invalid": "This link has expired or has already been used.",
        "totp_wrong": "The code is not correct.",
        "recovery_wrong": "The recovery code is not correct.",
        "too_short": "Use at least 8 characters.",
        "too_few_kinds": "Use at least three of: upper-case letters, lower-case letters, digits and symbols.",
        "mismatch": "The two passwords do not match.",
        "reset_done": "Your password has been reset.",
        "policy_menu": "Two-step verification setting",
        "policy_warning": "Turning two-step verification off raises the risk of unauthorized logins by third parties.",
        "policy_checkbox": "I have read the explanation above.",
        "policy_unchecked": "Please confirm that you have read the explanation above.",
        "policy_on": "Two-step verification is now on.",
        "policy_off": "Two-step verification is now off.",
    },
}


def submit(page: Page, field: str) -> None:
    """Press the submit button of the form holding input ``field``."""
    page.click(f"form:has([name={field}]) button[type=submit]")


def sign_in(page: Page, live: Live, email: str = DEMO_USER, password: str = DEMO_PASSWORD) -> None:
    page.goto(live.url + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    submit(page, "password")


def expect_menu(page: Page, locale: str) -> None:
    """Signed in: the account menu (no relying party is waiting)."""
    expect(page.locator("h1")).to_have_text(TEXT[locale]["menu"])


def expect_second_step(page: Page, locale: str, path: str) -> None:
    expect(page).to_have_url(re.compile(re.escape(path) + r"$"))
    expect(page.locator("h1")).to_have_text(TEXT[locale]["two_step"])


def enter_code(page: Page, code: str, remember: bool = False) -> None:
    page.fill("input[name=code]", code)
    if remember:
        page.check("input[name=remember]")
    submit(page, "code")


def save_recovery_code(page: Page) -> str:
    """On the recovery-code page: read the code, confirm it was saved, continue."""
    code = page.locator("#recovery-code").inner_text()
    assert RECOVERY_CODE.fullmatch(code), code
    page.check("input[name=saved]")
    submit(page, "saved")
    page.click("#continue")
    return code


def enrol_totp(page: Page, remember: bool = False) -> tuple[str, str]:
    """From the enrolment choice: set up an authenticator; returns (secret, recovery code)."""
    page.click("#choose-totp")
    secret = secret_from_uri(page.locator("#totp-uri").inner_text())
    enter_code(page, totp_code(secret), remember)
    return secret, save_recovery_code(page)


def log_out(page: Page, live: Live) -> None:
    page.goto(live.url + "/account")
    page.click("#logout")
    expect(page.locator("#logout")).to_have_count(0)
