"""Manual §1.3 and §1.5 (4)② in a real browser: the holder connects the
company's ADFS on the account menu's Active Directory setting, the mail brings
the connection id, an invited person registers with the AD account (the
connection-id confirmation page, then ADFS's own sign-in form), and signs in
through a relying party; the second time this browser goes straight to ADFS."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from playwright.sync_api import Page, expect

from ..ad_steps import SUBJECT, UPN, trust
from ..adfs import Adfs
from ..invite_steps import console, invitation_link, invite
from ..rp import DEMO_HOLDER
from .helpers import expect_menu, sign_in

TEXT = {
    "ja": {
        "saved": "Active Directory設定を保存しました。",
        "keep": "※接続IDは、ログインの際に必要となりますので、メモを取り安全な場所に保管してください。",
        "done": "申込完了",
    },
    "en": {
        "saved": "The Active Directory setting was saved.",
        "keep": "Write it down and keep it in a safe place.",
        "done": "Registration complete",
    },
}
CALLBACK = re.compile(r"^http://127\.0\.0\.1:8080/.*")


def _at_adfs(page: Page, adfs: Adfs, password: str) -> None:
    """ADFS's own sign-in form; its answer posts itself back to us."""
    expect(page).to_have_url(re.compile("^" + re.escape(adfs.sso_url)))
    page.fill("#UserName", UPN)
    page.fill("#Password", password)
    page.click("#submitButton")


def test_holder_connects_adfs_and_an_invited_user_registers_and_signs_in_with_it(
    live, adfs: Adfs, mail, page: Page, new_page, locale: str, tmp_path: Path
) -> None:
    metadata = tmp_path / "FederationMetadata.xml"
    metadata.write_text(adfs.metadata())
    sign_in(page, live, DEMO_HOLDER)
    expect_menu(page, locale)
    page.click("a[href='/account/ad']")
    page.set_input_files("#metadata_file", str(metadata))
    page.click("#ad-saml-save")
    expect(page.locator("#ad-saved")).to_contain_text(TEXT[locale]["saved"])
    connection_id = page.locator("#ad-connection-id").inner_text()
    expect(page.locator("#sp-acs-url")).to_have_text(f"{live.url}/saml/{connection_id}/acs")
    message = mail.inbox.wait_for(DEMO_HOLDER)
    assert message.subject == SUBJECT and connection_id in message.body
    trust(live, adfs, connection_id)  # the AD administrator adds the relying party trust
    password = adfs.add_account(UPN, name="Yamada Taro")

    email = "taro@demo.example"
    invite(console(live), email, "Yamada Taro")
    person = new_page()
    person.goto(invitation_link(live, mail, email))
    person.click("form[data-provider=ad] button")
    expect(person.locator("#connection-keep")).to_contain_text(TEXT[locale]["keep"])
    expect(person.locator("#connection_id")).to_have_value(connection_id)
    person.click("#connection-submit")
    _at_adfs(person, adfs, password)
    expect(person.locator("h1")).to_have_text(TEXT[locale]["done"])
    person.click("#register-ok")

    rp = live.rp()
    person.route(CALLBACK, lambda route: route.fulfill(status=200, body="callback"))
    person.goto(rp.authorization_url())
    person.click("#login-ad")  # no connection id asked: this browser remembers it
    with person.expect_request(CALLBACK) as request:
        _at_adfs(person, adfs, password)
    token = rp.exchange(dict(parse_qsl(urlsplit(request.value.url).query)))
    claims = rp.verify_id_token(token["id_token"])
    assert claims["amr"] == ["saml"] and claims["email"] == email
