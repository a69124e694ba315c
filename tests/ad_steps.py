"""Steps of the Active Directory journeys over plain HTTP, with the pysaml2
IdP (tests/adfs) as ADFS: the holder connecting it on /account/ad, the AD
administrator trusting our SP metadata, and a person going to ADFS and back."""

from __future__ import annotations

import re

import requests

from idp import db
from idp.models import IdentityKind, LoginIdentity

from .account_steps import holder, mail_titled
from .adfs import Adfs, Answer, Request_
from .conftest import Live
from .mfa_steps import path_of, user_named
from .rp import Browser, parse_forms
from .transports import MailServer

SUBJECT = "【ワークストレージ】Active Directoryアカウントのログイン用URL・接続ID通知"
CONNECTION_ID = re.compile(r"adfs-[A-Za-z0-9]{18}")
KEEP_SAFE_JA = "※接続IDは、ログインの際に必要となりますので、メモを取り安全な場所に保管してください。"
UPN = "taro.yamada@corp.example"


def upload_metadata(browser: Browser, xml: bytes | None = None, url: str | None = None) -> requests.Response:
    """The holder's /account/ad: the metadata file (multipart) or its URL, 保存."""
    page = browser.get("/account/ad")
    assert page.status_code == 200, page.text[:300]
    fields = next(f["fields"] for f in parse_forms(page.text) if f["fields"].get("stage") == "saml")
    files = {"metadata_file": ("FederationMetadata.xml", xml or b"", "application/xml")} if xml is not None else None
    data = {**fields, "metadata_url": url or ""}
    answer = browser.http.post(browser.base + "/account/ad", data=data, files=files, allow_redirects=False, timeout=30)
    return browser.follow(answer)


def shown(page: requests.Response, element: str) -> str:
    found = re.search(rf'id="{element}"[^>]*>([^<]*)<', page.text)
    assert found, f"no #{element} on the page"
    return found.group(1).strip()


def connect(live: Live, adfs: Adfs, mail: MailServer) -> str:
    """The holder uploads ADFS's metadata; the mail names the connection id; the
    AD administrator adds our SP metadata as a relying party trust."""
    page = upload_metadata(holder(live), adfs.metadata().encode())
    assert 'id="ad-saved"' in page.text, page.text[-1500:]
    connection_id = shown(page, "ad-connection-id")
    message = mail_titled(mail, "holder@demo.example", SUBJECT)
    assert connection_id in message.body
    trust(live, adfs, connection_id)
    return connection_id


def trust(live: Live, adfs: Adfs, connection_id: str) -> None:
    metadata = requests.get(f"{live.url}/saml/{connection_id}/metadata", timeout=10)
    assert metadata.status_code == 200
    adfs.trust(metadata.text)


def link_ad(live: Live, email: str, connection_id: str, upn: str = UPN) -> None:
    """``email`` signs in with the AD account ``upn`` instead of a password."""
    with live.app.app_context():
        user = user_named(email)
        user.identities[:] = [LoginIdentity(kind=IdentityKind.AD, provider=connection_id, subject=upn.lower())]
        db.commit()


def leaving(browser: Browser, response: requests.Response) -> str:
    """The address at ADFS a page of ours sent the browser to."""
    assert response.is_redirect and "SAMLRequest=" in response.headers["Location"], (
        response.status_code,
        response.text[:500],
    )
    return response.headers["Location"]


def to_adfs(browser: Browser, path: str, connection_id: str | None = None) -> str:
    """/login/ad (or ``path``), the connection id typed if asked; the ADFS address."""
    page = browser.get(path)
    if not page.is_redirect and connection_id is not None:
        assert 'name="connection_id"' in page.text, page.text[:500]
        page = browser.submit({"connection_id": connection_id})
    return leaving(browser, page)


def post_answer(browser: Browser, answer: Answer) -> requests.Response:
    """The browser posts ADFS's answer to our ACS (the HTTP-POST binding)."""
    response = browser.http.post(
        answer.acs_url, data={"SAMLResponse": answer.saml_response}, allow_redirects=False, timeout=10
    )
    return browser.follow(response)


def at_adfs(browser: Browser, adfs: Adfs, url: str, upn: str = UPN, **spoil: object) -> requests.Response:
    """ADFS receives the request, signs the person in, answers; back at our ACS."""
    request: Request_ = adfs.receive(url)
    return post_answer(browser, adfs.answer(request, upn, **spoil))  # type: ignore[arg-type]


def signed_out(browser: Browser) -> bool:
    return path_of(browser.get("/account")) == "/account/login"
