"""Upstream accounts (manual §1.2, §1.5, §2.1): sign-in, registration and the
login-method change through the loopback upstreams (real OpenID providers and
a Facebook-like server), over plain HTTP. A person is found by the upstream
account's subject only; every failure is a page with an error id that signs
nobody in."""

from __future__ import annotations

import secrets
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jws, jwt
from joserfc.jwk import KeySet, RSAKey
from sqlalchemy import select

from idp import clock, db
from idp.federation import oidc
from idp.federation.broker import BrokerError, Failure
from idp.federation.oidc import metadata, verify_id_token
from idp.models import Plan, Tenant

from ..account_steps import NEW_PASSWORD, holder, link_upstream
from ..console import idp
from ..invite_steps import console, invitation_link, invite, open_link
from ..line_steps import line_only_with, set_mfa, set_route
from ..mfa_steps import audit_events, path_of, sign_in
from ..rp import DEMO_HOLDER, DEMO_USER, Browser, callback_params, text_of
from ..services import silent_port
from ..upstream_steps import (
    DOWN,
    WELL_KNOWN,
    Federated,
    at_upstream,
    button,
    form_for,
    serve,
    through,
    to_upstream,
)

NOT_REGISTERED_JA = "このアカウントは登録されていません"


def _signed_out(fed: Federated, browser: Browser) -> bool:
    return path_of(browser.get("/account")) == "/account/login"


def _rp_sign_in(fed: Federated, provider: str, fields: dict[str, str], browser: Browser | None = None, **extra: str):  # type: ignore[no-untyped-def]
    """A relying party's request; the login page's button; the upstream; the tokens."""
    rp, browser = fed.live.rp(), browser or fed.live.browser()
    page = browser.get(rp.authorization_url(**extra))
    assert path_of(page) == "/login", page.url
    back = at_upstream(browser, to_upstream(browser, button(page, provider)), fields)
    final = browser.get(back)
    token = rp.exchange(callback_params(final))
    return rp.verify_id_token(token["id_token"]), browser


def _register_with(fed: Federated, provider: str, email: str, fields: dict[str, str]):  # type: ignore[no-untyped-def]
    invite(console(fed.live), email, "Yamada Taro")
    browser = open_link(fed.live, invitation_link(fed.live, fed.mail, email))
    leaving = browser.submit({}, form_index=form_for(browser.last, provider))  # type: ignore[arg-type]
    assert leaving.is_redirect, leaving.text[:300]
    return browser.get(at_upstream(browser, leaving.headers["Location"], fields))


@pytest.fixture
def fed(database_url, tmp_path, key_template, mail, sms, oidc_upstreams, facebook_upstream):  # type: ignore[no-untyped-def]
    yield from serve(database_url, tmp_path, key_template, mail, sms, oidc_upstreams, facebook_upstream)


def test_the_login_page_shows_the_configured_upstreams(fed: Federated) -> None:
    page = fed.live.browser().get("/login")
    for provider in ("google", "facebook", "microsoft", "daccount", DOWN):
        assert button(page, provider) == f"/login/{provider}"
    assert "Googleアカウントでログイン" in text_of(page.text)


def test_an_upstream_without_a_client_id_is_off(live) -> None:  # type: ignore[no-untyped-def]
    assert 'data-provider="google"' not in live.browser().get("/login").text
    assert live.browser().get("/login/google").status_code == 404


@pytest.mark.parametrize("provider", ["google", "daccount"])
def test_invited_user_registers_with_an_upstream_and_signs_in(fed: Federated, provider: str) -> None:
    account = fed.oidc.add_account(provider, "hana@example.com", name="Hana")
    done = _register_with(fed, provider, "newbie@demo.example", {"login": account.sub})
    assert 'id="register-done"' in done.text, done.text
    listed = idp(fed.live.settings, "user", "list", "--tenant", "demo").stdout
    assert f"newbie@demo.example\tuser\t{provider}\tactive" in listed

    claims, browser = _rp_sign_in(fed, provider, {"login": account.sub, "mfa": "1"})
    assert claims["amr"] == ["fed", "mfa"] and claims["email"] == "newbie@demo.example"
    # prompt=login reaches the upstream: it asks again (its form), this time without a second factor.
    claims, _ = _rp_sign_in(fed, provider, {"login": account.sub}, browser, prompt="login")
    assert claims["amr"] == ["fed"]
    # So does max_age: a sign-in older than it means the upstream's form again.
    claims, _ = _rp_sign_in(fed, provider, {"login": account.sub, "mfa": "1"}, browser, max_age="0")
    assert claims["amr"] == ["fed", "mfa"]
    (linked,) = [e for e in audit_events(fed.live, "account.upstream_linked") if e.email == "newbie@demo.example"]
    assert linked.detail["provider"] == provider and linked.detail["subject"] == account.sub
    successes = [e for e in audit_events(fed.live, "login.success") if e.email == "newbie@demo.example"]
    assert [(e.detail["method"], e.detail["subject"]) for e in successes] == [("fed", account.sub)] * 3


def test_microsoft_accounts_of_any_tenant_are_checked_against_their_tid(fed: Federated) -> None:
    account = fed.oidc.add_account(
        "microsoft", "guest@contoso.example", tenant=fed.oidc.other_tenant, email_verified=None
    )
    link_upstream(fed.live, DEMO_USER, "microsoft", account.sub)

    claims, _ = _rp_sign_in(fed, "microsoft", {"login": account.sub, "mfa": "1"})

    assert claims["amr"] == ["fed", "mfa"] and claims["email"] == DEMO_USER


def test_facebook_registration_and_sign_in(fed: Federated) -> None:
    account = fed.facebook.add_account("fb@example.com", name="Fb User")
    done = _register_with(fed, "facebook", "fbuser@demo.example", {"login": account.id})
    assert 'id="register-done"' in done.text, done.text

    claims, _ = _rp_sign_in(fed, "facebook", {"login": account.id})

    assert claims["amr"] == ["fed"] and claims["email"] == "fbuser@demo.example"


def test_the_holder_switches_to_google_and_back(fed: Federated) -> None:
    account = fed.oidc.add_account("google", "boss@gmail.example")
    browser = holder(fed.live)
    browser.get("/account/login-method")
    leaving = browser.submit({"provider": "google"})
    assert leaving.is_redirect
    done = browser.get(at_upstream(browser, leaving.headers["Location"], {"login": account.sub}))
    assert 'id="method-changed"' in done.text, done.text
    assert sign_in(fed.live.browser(), DEMO_HOLDER).status_code == 401  # the password is gone

    browser = fed.live.browser()
    page = browser.get("/login")
    assert path_of(through(browser, button(page, "google"), {"login": account.sub})) == "/account"
    back = browser.get("/account/login-method")
    assert 'id="current-method" data-provider="google"' in back.text
    assert path_of(browser.submit({"provider": "password"})) == "/account/login-method/password"
    done = browser.submit({"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert 'id="method-changed"' in done.text
    assert path_of(sign_in(fed.live.browser(), DEMO_HOLDER, NEW_PASSWORD)) == "/account"
    refused = through(fed.live.browser(), "/login/google", {"login": account.sub})
    assert refused.status_code == 403 and NOT_REGISTERED_JA in text_of(refused.text)
    (gone,) = audit_events(fed.live, "account.upstream_unlinked")
    assert (gone.detail["provider"], gone.detail["subject"]) == ("google", account.sub)


def test_an_unlinked_upstream_account_is_refused(fed: Federated) -> None:
    # Same email as a registered person: never matched by email.
    account = fed.oidc.add_account("google", DEMO_USER)
    browser = fed.live.browser()

    page = through(browser, "/login/google", {"login": account.sub})

    assert page.status_code == 403 and NOT_REGISTERED_JA in text_of(page.text)
    assert "招待" in text_of(page.text)  # the way forward: an invitation
    assert _signed_out(fed, browser)
    (failure,) = audit_events(fed.live, "login.failure")
    assert (failure.detail["reason"], failure.detail["subject"]) == ("not_registered", account.sub)


def test_an_account_linked_to_someone_else_cannot_be_linked_again(fed: Federated) -> None:
    account = fed.oidc.add_account("google", "shared@gmail.example")
    link_upstream(fed.live, DEMO_USER, "google", account.sub)
    browser = holder(fed.live)
    browser.get("/account/login-method")
    leaving = browser.submit({"provider": "google"})

    page = browser.get(at_upstream(browser, leaving.headers["Location"], {"login": account.sub}))

    assert page.status_code == 409 and "他のユーザのログインにすでに使用されています" in text_of(page.text)
    assert path_of(sign_in(fed.live.browser(), DEMO_HOLDER)) == "/account"  # still the password


def _failure(page) -> str:  # type: ignore[no-untyped-def]
    assert 'id="error-id"' in page.text, page.text[:500]
    start = page.text.index('data-failure="') + len('data-failure="')
    return page.text[start : page.text.index('"', start)]


def _with(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    return urlunsplit(parts._replace(query=urlencode({**query, **params})))


def test_access_denied_is_a_page(fed: Federated) -> None:
    browser = fed.live.browser()
    back = at_upstream(browser, to_upstream(browser, "/login/google"), {}, form_index=1)
    page = browser.get(back)
    assert page.status_code == 400 and _failure(page) == "denied"
    assert _signed_out(fed, browser)


def test_a_wrong_state_and_a_replayed_callback_are_refused(fed: Federated) -> None:
    account = fed.oidc.add_account("google", "x@gmail.example")
    link_upstream(fed.live, DEMO_USER, "google", account.sub)
    browser = fed.live.browser()
    back = at_upstream(browser, to_upstream(browser, "/login/google"), {"login": account.sub})

    wrong = browser.get(_with(back, state="forged"))
    assert wrong.status_code == 400 and _failure(wrong) == "state"
    assert _signed_out(fed, browser)

    browser = fed.live.browser()
    back = at_upstream(browser, to_upstream(browser, "/login/google"), {"login": account.sub})
    assert path_of(browser.get(back)) == "/account"
    again = browser.get(back)
    assert again.status_code == 400 and _failure(again) == "state"


def test_a_wrong_nonce_is_refused(fed: Federated) -> None:
    account = fed.oidc.add_account("google", "n@gmail.example")
    link_upstream(fed.live, DEMO_USER, "google", account.sub)
    browser = fed.live.browser()
    tampered = _with(to_upstream(browser, "/login/google"), nonce="someone-elses")
    page = browser.get(at_upstream(browser, tampered, {"login": account.sub}))
    assert page.status_code == 400 and _failure(page) == "id_token"
    assert _signed_out(fed, browser)


def test_an_answer_naming_another_issuer_is_refused(fed: Federated) -> None:
    """RFC 9207: Google's answer with d-account's iss (a mix-up) signs nobody in."""
    account = fed.oidc.add_account("google", "m@gmail.example")
    link_upstream(fed.live, DEMO_USER, "google", account.sub)
    browser = fed.live.browser()
    back = at_upstream(browser, to_upstream(browser, "/login/google"), {"login": account.sub})
    page = browser.get(_with(back, iss=fed.oidc["daccount"].issuer))
    assert page.status_code == 400 and _failure(page) == "mixup"
    assert _signed_out(fed, browser)


def test_an_upstream_that_is_down_is_a_page(fed: Federated) -> None:
    page = fed.live.browser().get(f"/login/{DOWN}")
    assert page.status_code == 502 and _failure(page) == "unavailable"
    assert "NTT東日本ビジネスID" in text_of(page.text)


def _token_for(fed: Federated, provider: str, client_id: str, secret: str, nonce: str) -> str:
    """An ID token the upstream issued to the client ``client_id`` (a browser at its form)."""
    upstream = fed.oidc[provider]
    account = fed.oidc.add_account(provider, "aud@example.com")
    redirect = fed.callback(provider)
    fed.oidc.register_client(provider, redirect, client_id=client_id, client_secret=secret)
    meta = metadata(upstream.discovery_url.removesuffix(WELL_KNOWN))
    session = OAuth2Session(client_id, secret, redirect_uri=redirect, scope="openid", code_challenge_method="S256")
    verifier = secrets.token_urlsafe(48)
    url, _ = session.create_authorization_url(meta["authorization_endpoint"], nonce=nonce, code_verifier=verifier)
    back = at_upstream(Browser(fed.oidc.base_url), url, {"login": account.sub})
    code = parse_qs(urlsplit(back).query)["code"][0]
    return session.fetch_token(meta["token_endpoint"], code=code, code_verifier=verifier)["id_token"]


def test_id_tokens_for_another_client_or_expired_are_refused(fed: Federated) -> None:
    ours = fed.clients["google"].client_id
    issuer = fed.oidc["google"].discovery_url.removesuffix(WELL_KNOWN)
    with fed.live.app.app_context():
        meta = metadata(issuer)
        own = _token_for(fed, "google", ours, fed.clients["google"].client_secret, "n1")
        assert verify_id_token(own, meta, ours, "n1")["aud"] == ours
        other = _token_for(fed, "google", "second-client", "second-secret", "n1")
        with pytest.raises(BrokerError) as refused:
            verify_id_token(other, meta, ours, "n1")
        assert refused.value.failure == Failure.ID_TOKEN and "aud" in refused.value.detail
        clock.advance(timedelta(hours=3))
        with pytest.raises(BrokerError) as expired:
            verify_id_token(own, meta, ours, "n1")
        assert expired.value.failure == Failure.ID_TOKEN and "exp" in expired.value.detail


def test_facebook_account_a_is_not_replaced_by_b(fed: Federated) -> None:
    """Manual §2.1 (1): one Facebook account is never switched directly to another."""
    first, second = fed.facebook.add_account("a@fb.example"), fed.facebook.add_account("b@fb.example")
    link_upstream(fed.live, DEMO_HOLDER, "facebook", first.id)
    browser = fed.live.browser()
    assert path_of(through(browser, "/login/facebook", {"login": first.id})) == "/account"
    browser.get("/account/login-method")
    leaving = browser.submit({"provider": "facebook"})

    page = browser.get(at_upstream(browser, leaving.headers["Location"], {"login": second.id}))

    assert page.status_code == 409 and "異なる Facebook アカウントへは切り替えできません" in text_of(page.text)
    refused = through(fed.live.browser(), "/login/facebook", {"login": second.id})
    assert refused.status_code == 403 and NOT_REGISTERED_JA in text_of(refused.text)
    assert path_of(through(fed.live.browser(), "/login/facebook", {"login": first.id})) == "/account"


def test_tenant_rules_apply_and_no_local_second_step(fed: Federated) -> None:
    account = fed.oidc.add_account("google", "rules@gmail.example")
    link_upstream(fed.live, DEMO_USER, "google", account.sub)
    set_mfa(fed.live, True)
    # Two-step verification on: the upstream's sign-in is not asked for a factor of ours.
    claims, _ = _rp_sign_in(fed, "google", {"login": account.sub})
    assert claims["amr"] == ["fed"]

    line_only_with(fed.live)  # and this request comes over no line
    page = through(fed.live.browser(), "/login/google", {"login": account.sub})
    assert page.status_code == 403 and 'id="line-error"' in page.text

    set_route(fed.live, "line+internet")
    with fed.live.app.app_context():
        tenant = db.session().scalar(select(Tenant).where(Tenant.name == "demo"))
        tenant.plan, tenant.trial_ends_at = Plan.TRIAL, clock.now() - timedelta(days=1)
        db.commit()
    browser = fed.live.browser()
    page = through(browser, "/login/google", {"login": account.sub})
    assert page.status_code == 403 and _signed_out(fed, browser)


def test_a_second_invitation_cannot_take_a_linked_account(fed: Federated) -> None:
    account = fed.oidc.add_account("google", "one@gmail.example")
    assert 'id="register-done"' in _register_with(fed, "google", "first@demo.example", {"login": account.sub}).text

    refused = _register_with(fed, "google", "second@demo.example", {"login": account.sub})

    assert refused.status_code == 409 and "他のユーザのログインにすでに使用されています" in text_of(refused.text)
    listed = idp(fed.live.settings, "user", "list", "--tenant", "demo").stdout
    assert "second@demo.example\tuser\t-\tinvited" in listed  # the invitation is not used up


def test_the_jwks_is_fetched_again_for_an_unknown_kid_and_a_forged_signature_fails(fed: Federated) -> None:
    ours = fed.clients["google"]
    issuer = fed.oidc["google"].discovery_url.removesuffix(WELL_KNOWN)
    with fed.live.app.app_context():
        meta = metadata(issuer)
        token = _token_for(fed, "google", ours.client_id, ours.client_secret, "n2")
        kid = jws.extract_compact(token.encode()).protected["kid"]
        # Keys cached from before the upstream rotated: none with this kid.
        oidc._jwks[meta["jwks_uri"]] = KeySet([RSAKey.generate_key(2048, parameters={"kid": "old"})])
        assert verify_id_token(token, meta, ours.client_id, "n2")["iss"] == issuer

        forger = RSAKey.generate_key(2048, parameters={"kid": kid})
        claims = jwt.decode(token, oidc._jwks[meta["jwks_uri"]]).claims
        forged = jwt.encode({"alg": "RS256", "kid": kid}, {**claims, "sub": "someone-else"}, forger)
        with pytest.raises(BrokerError) as refused:
            verify_id_token(forged, meta, ours.client_id, "n2")
        assert refused.value.failure == Failure.ID_TOKEN


def test_registration_and_method_pages_offer_the_configured_upstreams(fed: Federated) -> None:
    upstreams = ("google", "facebook", "microsoft", "daccount", DOWN)
    page = holder(fed.live).get("/account/login-method")
    for provider in upstreams:
        assert f'data-provider="{provider}"' in page.text
    assert "登録したい認証連携するサービスから一度ログアウトした後に" in text_of(page.text)

    invite(console(fed.live), "lister@demo.example")
    page = open_link(fed.live, invitation_link(fed.live, fed.mail, "lister@demo.example")).last
    assert page is not None
    for provider in upstreams:
        assert f'data-provider="{provider}"' in page.text
    assert "Googleアカウントで登録" in text_of(page.text)


def test_a_holder_without_a_password_gives_the_sign_in_again_at_the_upstream(fed: Federated) -> None:
    """The sensitive pages ask for the sign-in again after 5 minutes: someone who
    signs in only through an upstream gives it there (prompt=login), and only the
    linked account counts."""
    account = fed.oidc.add_account("google", "boss@gmail.example")
    stranger = fed.oidc.add_account("google", "someone@gmail.example")
    browser = holder(fed.live)
    browser.get("/account/login-method")
    leaving = browser.submit({"provider": "google"})
    assert (
        'id="method-changed"'
        in browser.get(at_upstream(browser, leaving.headers["Location"], {"login": account.sub})).text
    )
    browser = fed.live.browser()
    assert path_of(through(browser, button(browser.get("/login"), "google"), {"login": account.sub})) == "/account"

    clock.advance(timedelta(minutes=6))
    asked = browser.get("/account/mfa")
    assert path_of(asked) == "/account/reauthenticate"
    assert 'name="password"' not in asked.text
    again = button(asked, "google")
    assert "prompt=login" in to_upstream(browser, again)

    # Someone else at the same upstream (whose own session there is forgotten
    # first, as the loopback upstream asks to sign out before switching accounts).
    _forget_upstream_session(browser, "google")
    refused = browser.get(at_upstream(browser, to_upstream(browser, again), {"login": stranger.sub}))
    assert refused.status_code == 409
    assert path_of(browser.get("/account/mfa")) == "/account/reauthenticate"

    _forget_upstream_session(browser, "google")
    page = browser.get(at_upstream(browser, to_upstream(browser, again), {"login": account.sub}))
    assert path_of(page) == "/account/mfa" and page.status_code == 200
    (event,) = audit_events(fed.live, "session.reauthenticated")
    assert (event.detail["provider"], event.detail["subject"]) == ("google", account.sub)


def _forget_upstream_session(browser: Browser, provider: str) -> None:
    for cookie in [c for c in browser.http.cookies if c.path.startswith(f"/{provider}")]:
        browser.http.cookies.clear(cookie.domain, cookie.path, cookie.name)


@pytest.fixture
def silent(database_url, tmp_path, key_template, mail, sms, oidc_upstreams, facebook_upstream):  # type: ignore[no-untyped-def]
    """A provider whose NTT East Business ID takes connections and never answers."""
    with silent_port() as port:
        unreachable = {DOWN: f"http://127.0.0.1:{port}/{DOWN}"}
        yield from serve(
            database_url, tmp_path, key_template, mail, sms, oidc_upstreams, facebook_upstream, unreachable
        )


def test_an_upstream_that_never_answers_is_a_page_after_the_read_timeout(silent: Federated) -> None:
    browser = silent.live.browser()
    # The provider gives up on its own (read timeout 10 s); this client waits longer than that.
    page = browser.http.get(f"{silent.live.url}/login/{DOWN}", allow_redirects=False, timeout=60)
    assert page.status_code == 502 and _failure(page) == "unavailable"
    assert "NTT東日本ビジネスID" in text_of(page.text)
    assert _signed_out(silent, browser)
