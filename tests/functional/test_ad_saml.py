"""Active Directory over ADFS (manual §1.3, §1.5 (4)②): the holder connects the
tenant's ADFS on /account/ad or with `idp tenant ad`, an invited person
registers with the AD account and signs in with it, tokens carry amr saml.
The pysaml2 IdP on loopback stands in for ADFS."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import requests

from idp import clock

from ..account_steps import holder, link_titled, post, signed_in_as, user_id
from ..ad_steps import (
    CONNECTION_ID,
    KEEP_SAFE_JA,
    SUBJECT,
    UPN,
    at_adfs,
    connect,
    leaving,
    link_ad,
    post_answer,
    shown,
    signed_out,
    to_adfs,
    upload_metadata,
)
from ..adfs import Adfs
from ..console import idp
from ..invite_steps import console, invitation_link, invite, open_link
from ..mfa_steps import DEMO_ADMIN, add_admin, audit_events, path_of, post_form
from ..rp import DEMO_HOLDER, DEMO_USER, callback_params, parse_forms, text_of
from ..services import free_port
from ..upstream_steps import form_for

NOT_REGISTERED_JA = "このアカウントは登録されていません"


def test_the_holder_connects_adfs_and_is_told_the_connection_id(live, adfs: Adfs, mail) -> None:
    browser = holder(live)
    page = upload_metadata(browser, adfs.metadata().encode())

    assert 'id="ad-saved"' in page.text, page.text[-1000:]
    connection_id = shown(page, "ad-connection-id")
    assert CONNECTION_ID.fullmatch(connection_id)
    assert shown(page, "sp-metadata-url") == f"{live.url}/saml/{connection_id}/metadata"
    assert shown(page, "sp-acs-url") == f"{live.url}/saml/{connection_id}/acs"
    message = mail.inbox.wait_for(DEMO_HOLDER)
    assert message.subject == SUBJECT
    assert f"・Active Directoryの接続ID: {connection_id}" in message.body
    assert f"・インターネット用: {live.url}/login/ad" in message.body and "・回線認証用:" in message.body
    assert "事前に接続IDを通知してください" in message.body
    assert f"AD connection id: {connection_id}" in idp(live.settings, "tenant", "show", "demo").stdout

    sp = requests.get(f"{live.url}/saml/{connection_id}/metadata", timeout=10)
    assert f'entityID="{live.url}/saml/{connection_id}/metadata"' in sp.text
    assert 'AuthnRequestsSigned="true"' in sp.text and 'WantAssertionsSigned="true"' in sp.text
    assert f'Location="{live.url}/saml/{connection_id}/acs"' in sp.text and "X509Certificate" in sp.text

    # Replaced from its URL: the same connection id, and no second mail.
    again = upload_metadata(browser, url=adfs.metadata_url)
    assert 'id="ad-saved"' in again.text and shown(again, "ad-connection-id") == connection_id
    assert mail.inbox.count(DEMO_HOLDER) == 1
    events = audit_events(live, "tenant.ad_set")
    assert [e.detail["connection_id"] for e in events] == [connection_id] * 2


def test_unusable_metadata_is_a_page_and_changes_nothing(live, adfs: Adfs, mail) -> None:
    browser = holder(live)
    closed = f"http://127.0.0.1:{free_port()}/FederationMetadata.xml"
    sp_only = adfs.metadata().replace("IDPSSODescriptor", "SPSSODescriptor").encode()
    too_big = b"<x>" + b" " * live.settings.ad_metadata_max_bytes + b"</x>"
    cases = [
        ({"xml": b"this is not XML"}, "XML形式のフェデレーションメタデータではありません"),
        ({"xml": sp_only}, "IDPSSODescriptor"),
        ({"xml": too_big}, "メタデータが大きすぎます"),
        ({"url": closed}, "このURLからメタデータを取得できませんでした"),
        ({"url": "file:///etc/passwd"}, "https:// または http://"),
        ({"xml": b""}, "メタデータのファイルを選択するか"),
    ]
    for given, message in cases:
        page = upload_metadata(browser, **given)  # type: ignore[arg-type]
        assert page.status_code == 400 and message in text_of(page.text), (given.keys(), text_of(page.text)[-400:])
        assert 'id="ad-connection-id"' not in page.text
    assert mail.inbox.count(DEMO_HOLDER) == 0
    assert "AD connection id: -" in idp(live.settings, "tenant", "show", "demo").stdout


def test_the_operator_sets_the_metadata_from_a_file_or_a_url(live, adfs: Adfs, tmp_path: Path, mail) -> None:
    metadata = tmp_path / "FederationMetadata.xml"
    metadata.write_text(adfs.metadata())

    first = idp(live.settings, "tenant", "ad", "demo", "--metadata", str(metadata), IDP_SMTP_URL=mail.url)
    again = idp(live.settings, "tenant", "ad", "demo", "--metadata", adfs.metadata_url)

    assert first.returncode == 0 and CONNECTION_ID.fullmatch(first.stdout.strip()), first.stderr
    assert again.returncode == 0 and again.stdout == first.stdout
    assert mail.inbox.wait_for(DEMO_HOLDER).subject == SUBJECT
    metadata.write_text("<nope/>")
    bad = idp(live.settings, "tenant", "ad", "demo", "--metadata", str(metadata))
    assert bad.returncode != 0 and len(bad.stderr.strip().splitlines()) == 1 and "no_idp" in bad.stderr


def test_an_invited_user_registers_with_ad_and_signs_in(live, adfs: Adfs, mail) -> None:
    connection_id = connect(live, adfs, mail)
    email = "taro@demo.example"
    invite(console(live), email, "Yamada Taro")
    browser = open_link(live, invitation_link(live, mail, email))
    assert 'data-provider="ad"' in browser.last.text  # type: ignore[union-attr]

    confirm = browser.submit({}, form_index=form_for(browser.last, "ad"))  # type: ignore[arg-type]
    assert path_of(confirm) == "/login/ad" and KEEP_SAFE_JA in text_of(confirm.text)
    assert parse_forms(confirm.text)[0]["fields"]["connection_id"] == connection_id
    done = at_adfs(browser, adfs, leaving(browser, browser.submit({})))

    assert 'id="register-done"' in done.text, done.text[-800:]
    assert f"{email}\tuser\tad\tactive" in idp(live.settings, "user", "list", "--tenant", "demo").stdout
    (linked,) = audit_events(live, "account.upstream_linked")
    assert (linked.detail["provider"], linked.detail["subject"]) == (connection_id, UPN)

    # The login page's button: this browser remembers the connection id and goes straight to ADFS.
    rp = live.rp()
    page = browser.get(rp.authorization_url())
    assert 'id="login-ad" data-provider="ad"' in page.text
    button = parse_button(page.text)
    final = at_adfs(browser, adfs, to_adfs(browser, button))
    claims = rp.verify_id_token(rp.exchange(callback_params(final))["id_token"])
    assert claims["amr"] == ["saml"] and claims["email"] == email
    (success,) = [e for e in audit_events(live, "login.success") if e.email == email]
    assert (success.detail["method"], success.detail["subject"]) == ("saml", UPN)


def parse_button(html: str, element: str = "login-ad") -> str:
    start = html.index(f'id="{element}"')
    href = html.index('href="', start) + len('href="')
    return html[href : html.index('"', href)].replace("&amp;", "&")


def test_a_new_browser_is_asked_the_connection_id(live, adfs: Adfs, mail) -> None:
    connection_id = connect(live, adfs, mail)
    link_ad(live, DEMO_USER, connection_id)
    browser = live.browser()

    wrong = browser.get("/login/ad")
    assert 'name="connection_id"' in wrong.text
    refused = browser.submit({"connection_id": "adfs-" + "x" * 18})
    assert refused.status_code == 400 and "接続IDが正しくありません" in text_of(refused.text)
    back = browser.submit({"connection_id": connection_id})
    cookie = back.headers.get("Set-Cookie", "")
    assert f"idp_ad={connection_id}" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert path_of(at_adfs(browser, adfs, leaving(browser, back))) == "/account"
    # Typing another one stays possible.
    assert 'name="connection_id"' in browser.get("/login/ad?change=1").text


def test_an_ad_account_nobody_registered_signs_nobody_in(live, adfs: Adfs, mail) -> None:
    connection_id = connect(live, adfs, mail)
    browser = live.browser()

    page = at_adfs(browser, adfs, to_adfs(browser, "/login/ad", connection_id), upn=DEMO_USER)

    assert page.status_code == 403 and NOT_REGISTERED_JA in text_of(page.text)
    assert signed_out(browser)
    (failure,) = audit_events(live, "login.failure")
    assert (failure.detail["reason"], failure.detail["method"]) == ("not_registered", "saml")


def test_an_ad_account_of_someone_else_cannot_be_linked_again(live, adfs: Adfs, mail) -> None:
    connection_id = connect(live, adfs, mail)
    link_ad(live, DEMO_USER, connection_id)
    email = "second@demo.example"
    invite(console(live), email)
    browser = open_link(live, invitation_link(live, mail, email))
    browser.submit({}, form_index=form_for(browser.last, "ad"))  # type: ignore[arg-type]

    page = at_adfs(browser, adfs, leaving(browser, browser.submit({})))

    assert page.status_code == 409 and "他のユーザのログインにすでに使用されています" in text_of(page.text)
    assert f"{email}\tuser\t-\tinvited" in idp(live.settings, "user", "list", "--tenant", "demo").stdout


def test_the_holder_is_never_offered_ad(live, adfs: Adfs, mail) -> None:
    connect(live, adfs, mail)
    browser = holder(live)
    assert 'data-provider="ad"' not in browser.get("/account/login-method").text
    refused = post(browser, "/account/login-method", {"provider": "ad"})
    assert refused.status_code == 400
    assert "契約者は、Active Directory アカウントは選択できません" in text_of(refused.text)


def test_an_ldap_connection_asks_user_name_and_password_on_our_page(live, mail) -> None:
    browser = holder(live)
    page = browser.get("/account/ad")
    fields = next(f["fields"] for f in parse_forms(page.text) if f["fields"].get("stage") == "ldap")
    closed = f"ldaps://127.0.0.1:{free_port()}"
    wrong = post(browser, "/account/ad", {**fields, "url": "http://dc.example", "base_dn": "DC=corp"})
    assert wrong.status_code == 400 and "ldaps:// または ldap://" in text_of(wrong.text)
    saved = post(browser, "/account/ad", {**fields, "url": closed, "base_dn": "DC=corp,DC=example"})
    assert 'id="ad-kind" data-kind="ldap"' in saved.text and 'id="sp-acs-url"' not in saved.text
    connection_id = shown(saved, "ad-connection-id")
    assert connection_id in mail.inbox.wait_for(DEMO_HOLDER).body

    person = live.browser()
    ask = person.get("/login/ad")
    asked = person.submit({"connection_id": connection_id})
    assert 'name="connection_id"' in ask.text and path_of(asked) == f"/login/ad/{connection_id}/ldap"
    assert 'name="username"' in asked.text and 'name="password"' in asked.text
    down = person.submit({"username": "taro", "password": "whatever"})

    # The directory cannot be used: a page with an error id, nobody signed in.
    assert down.status_code in (400, 502) and 'id="error-id"' in down.text
    assert re.search(r'data-failure="(unavailable|connection)"', down.text)
    assert signed_out(person)


def test_an_ad_admin_gives_the_sign_in_again_at_adfs(live, adfs: Adfs, mail) -> None:
    connection_id = connect(live, adfs, mail)
    add_admin(live)
    link_ad(live, DEMO_ADMIN, connection_id)
    browser = live.browser()
    assert path_of(at_adfs(browser, adfs, to_adfs(browser, "/login/ad", connection_id))) == "/account"
    browser.get("/admin/users/new")
    clock.advance(timedelta(minutes=6))

    asked = post_form(browser, {"email": "new@demo.example", "name": "", "role": "user"})
    page = browser.get(asked.headers["Location"])
    assert 'id="reauth-ad" data-provider="ad"' in page.text
    url = to_adfs(browser, parse_button(page.text, "reauth-ad"))
    request = adfs.receive(url)
    assert request.force_authn  # ADFS asks again instead of a remembered Windows sign-in
    back = post_answer(browser, adfs.answer(request, UPN))
    assert path_of(back) == "/admin/users/new"
    assert [e.email for e in audit_events(live, "session.reauthenticated")] == [DEMO_ADMIN]

    # Someone else's AD account changes nothing.
    clock.advance(timedelta(minutes=6))
    url = to_adfs(browser, parse_button(browser.get(asked.headers["Location"]).text, "reauth-ad"))
    refused = post_answer(browser, adfs.answer(adfs.receive(url), "someone.else@corp.example"))
    assert refused.status_code == 409
    assert len(audit_events(live, "session.reauthentication_refused")) == 1


def test_a_user_switches_to_ad_from_the_admins_mail(live, adfs: Adfs, mail) -> None:
    connection_id = connect(live, adfs, mail)
    add_admin(live)
    admin = signed_in_as(live, DEMO_ADMIN)
    admin.get(f"/admin/users/{user_id(live, DEMO_USER)}/mail")
    admin.submit({"email": DEMO_USER})
    admin.submit({})
    link = link_titled(live, mail, DEMO_USER, "【コワークストレージ】ログイン方法の設定変更")

    user = live.browser()
    choice = user.get(link)
    assert 'data-provider="ad"' in choice.text
    confirm = user.submit({"provider": "ad"})
    assert KEEP_SAFE_JA in text_of(confirm.text)
    assert parse_forms(confirm.text)[0]["fields"]["connection_id"] == connection_id
    done = at_adfs(user, adfs, leaving(user, user.submit({})))

    assert 'id="method-changed"' in done.text, done.text[-600:]
    assert f"{DEMO_USER}\tuser\tad\tactive" in idp(live.settings, "user", "list", "--tenant", "demo").stdout
    assert path_of(at_adfs(user, adfs, to_adfs(user, "/login/ad"))) == "/account"
