"""The token endpoint refuses what it must: codes are single-use, short-lived,
bound to their client, redirect URI and PKCE verifier (RFC 6749 §4.1.3, RFC
7636 §4.6); a replayed code revokes what it produced (RFC 6749 §4.1.2); a
reused refresh token revokes its family (RFC 9700 §4.14.2)."""

from __future__ import annotations

from datetime import timedelta

from idp import clock

from ..rp import DEMO_REDIRECT, pkce_pair
from .helpers import (
    code_flow,
    confidential_client,
    introspect,
    redeem,
    refresh,
    signed_in_code,
    token_request,
    userinfo,
)


def assert_invalid_grant(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 400, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["error"] == "invalid_grant"


def pkce_code(live) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    verifier, challenge = pkce_pair()
    code, _ = signed_in_code(live, code_challenge=challenge, code_challenge_method="S256")
    return code, verifier


def test_code_redeems_once(live):
    code, verifier = pkce_code(live)
    first = redeem(live, code, verifier)
    assert first.status_code == 200, first.text
    assert first.headers["Cache-Control"] == "no-store"
    assert_invalid_grant(redeem(live, code, verifier))


def test_code_replay_revokes_everything_issued_from_it(live):
    code, verifier = pkce_code(live)
    tokens = redeem(live, code, verifier).json()
    assert userinfo(live, tokens["access_token"]).status_code == 200

    assert_invalid_grant(redeem(live, code, verifier))

    response = userinfo(live, tokens["access_token"])
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert introspect(live, tokens["access_token"]) == {"active": False}
    assert introspect(live, tokens["refresh_token"]) == {"active": False}
    assert_invalid_grant(refresh(live, tokens["refresh_token"]))


def test_wrong_code_verifier_is_refused_and_spends_the_code(live):
    # A presentation by the rightful client is a use (RFC 6749 §4.1.2), even a
    # failed one: whoever guessed wrong does not get to try again. Nothing was
    # issued from it, so nothing is revoked.
    code, verifier = pkce_code(live)
    assert_invalid_grant(redeem(live, code, pkce_pair()[0]))
    assert_invalid_grant(redeem(live, code, verifier))


def test_missing_code_verifier_is_refused(live):
    code, _ = pkce_code(live)
    response = redeem(live, code)
    assert response.status_code == 400 and response.json()["error"] in ("invalid_request", "invalid_grant")


def test_code_verifier_without_a_challenge_is_refused(live):
    # RFC 9700 §2.1.1: a verifier for a code issued without a challenge is a
    # sign of PKCE downgrade.
    code, _ = signed_in_code(live)
    response = redeem(live, code, pkce_pair()[0])
    assert response.status_code == 400 and response.json()["error"] in ("invalid_request", "invalid_grant")


def test_expired_code_is_refused(live):
    code, verifier = pkce_code(live)
    clock.advance(timedelta(seconds=live.settings.code_ttl + 1))
    assert_invalid_grant(redeem(live, code, verifier))


def test_code_with_another_redirect_uri_is_refused(live):
    code, verifier = pkce_code(live)
    assert_invalid_grant(redeem(live, code, verifier, redirect_uri=DEMO_REDIRECT + "/other"))


def test_code_without_redirect_uri_is_refused(live):
    # RFC 6749 §4.1.3: required when it was in the authorization request.
    code, verifier = pkce_code(live)
    response = token_request(live, {"grant_type": "authorization_code", "code": code, "code_verifier": verifier})
    assert_invalid_grant(response)


def test_code_of_another_client_is_refused(live):
    secret = confidential_client(live)
    code, verifier = pkce_code(live)
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": DEMO_REDIRECT, "code_verifier": verifier}
    assert_invalid_grant(token_request(live, data, "other-rp", secret))
    # The rightful client can still redeem it: another client's attempt is no use of the code.
    assert redeem(live, code, verifier).status_code == 200


def test_unknown_code_is_refused(live):
    assert_invalid_grant(redeem(live, "no-such-code", pkce_pair()[0]))


def test_refresh_token_reuse_revokes_the_family(live):
    rp, tokens = code_flow(live)
    renewed = refresh(live, tokens["refresh_token"])
    assert renewed.status_code == 200
    renewed_tokens = renewed.json()

    assert_invalid_grant(refresh(live, tokens["refresh_token"]))

    assert_invalid_grant(refresh(live, renewed_tokens["refresh_token"]))
    assert introspect(live, renewed_tokens["access_token"]) == {"active": False}
    assert userinfo(live, renewed_tokens["access_token"]).status_code == 401


def test_refresh_token_of_another_client_is_refused_and_stays_usable(live):
    secret = confidential_client(live)
    _, tokens = code_flow(live)
    assert_invalid_grant(refresh(live, tokens["refresh_token"], "other-rp", secret))
    # Presented by the wrong client it was not consumed, nor was its family revoked.
    assert refresh(live, tokens["refresh_token"]).status_code == 200


def test_expired_refresh_token_is_refused(live):
    _, tokens = code_flow(live)
    clock.advance(timedelta(seconds=live.settings.refresh_token_ttl + 1))
    assert_invalid_grant(refresh(live, tokens["refresh_token"]))


def test_refresh_cannot_widen_the_scope(live):
    _, tokens = code_flow(live, live.rp(scope="openid email"))
    response = token_request(
        live, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "scope": "openid profile"}
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_scope"
    # Refused before it was spent: the same refresh token still works, and
    # using it is no reuse that would revoke the family.
    renewed = refresh(live, tokens["refresh_token"])
    assert renewed.status_code == 200, renewed.text
    assert userinfo(live, renewed.json()["access_token"]).status_code == 200


def test_refresh_with_a_narrower_scope(live):
    _, tokens = code_flow(live)
    response = token_request(
        live, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "scope": "openid"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "openid"
