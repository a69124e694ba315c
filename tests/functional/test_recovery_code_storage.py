"""Recovery codes are stored like passwords (argon2id, salted and slow), are
used once, and a code stored before as a plain SHA-256 digest still works once."""

from __future__ import annotations

import hashlib

from idp import db
from idp.mfa import enrolment, recovery

from ..journeys import set_tenant_mfa
from ..mfa_steps import enrol_totp, path_of, post_form, recovery_code_on, sign_in, user_named


def stored_hash(live) -> str:  # type: ignore[no-untyped-def]
    with live.app.app_context():
        found = enrolment.confirmed(user_named())
        assert found is not None and found.recovery_code_hash
        return found.recovery_code_hash


def use_code(live, code: str):  # type: ignore[no-untyped-def]
    """Sign in with the password, then give ``code`` on the recovery form."""
    browser = live.browser()
    assert path_of(sign_in(browser)) == "/mfa/challenge"
    browser.get("/mfa/recovery")
    return browser, post_form(browser, {"recovery_code": code})


def test_the_code_is_stored_salted_and_slow(live):
    _secret, code = enrol_totp(live)
    stored = stored_hash(live)
    assert stored.startswith("$argon2id$")
    assert hashlib.sha256(recovery.canonical(code).encode()).hexdigest() not in stored


def test_a_code_works_once_and_its_replacement_next(live):
    set_tenant_mfa(live, True)
    _secret, code = enrol_totp(live)
    browser, answer = use_code(live, code)
    assert answer.is_redirect and answer.headers["Location"].endswith("/mfa/recovery-code")
    replacement = recovery_code_on(browser.follow(answer).text)
    assert use_code(live, code)[1].status_code == 200  # used up: the form again, with an error
    assert use_code(live, replacement)[1].is_redirect


def test_a_code_stored_as_a_sha256_digest_still_works_once(live):
    set_tenant_mfa(live, True)
    _secret, _code = enrol_totp(live)
    legacy = recovery.new_code()
    with live.app.app_context():
        found = enrolment.confirmed(user_named())
        found.recovery_code_hash = hashlib.sha256(recovery.canonical(legacy).encode()).hexdigest()
        db.commit()
    assert use_code(live, legacy.lower())[1].is_redirect
    assert stored_hash(live).startswith("$argon2id$")
    assert not use_code(live, legacy)[1].is_redirect
