"""A relying party signs a person in with the code flow and gets tokens that verify."""

from __future__ import annotations

from ..rp import DEMO_USER, callback_params


def test_code_flow_gives_verifiable_tokens(live):
    rp, browser = live.rp(), live.browser()
    callback = callback_params(browser.login(rp.authorization_url()))
    token = rp.exchange(callback)

    claims = rp.verify_id_token(token["id_token"], access_token=token["access_token"])
    assert claims["email"] == DEMO_USER
    assert claims["amr"] == ["pwd"]
    assert claims["sub"] != DEMO_USER and "@" not in claims["sub"]
    assert set(claims["roles"]) <= {"holder", "admin", "user"}
    access = rp.verify_access_token(token["access_token"])
    assert access["client_id"] == "demo-rp" and access["sub"] == claims["sub"]

    info = rp.userinfo(token["access_token"])
    assert info.status_code == 200
    assert info.json()["sub"] == claims["sub"] and info.json()["email"] == DEMO_USER


def test_refresh_rotates_and_reuse_revokes_the_family(live):
    rp, browser = live.rp(), live.browser()
    token = rp.exchange(callback_params(browser.login(rp.authorization_url())))
    first = token["refresh_token"]
    renewed = rp.refresh(first)
    assert renewed["refresh_token"] != first
    rp.verify_id_token(renewed["id_token"], access_token=renewed["access_token"], nonce=None)

    import requests

    reuse = requests.post(
        rp.config["token_endpoint"],
        data={"grant_type": "refresh_token", "refresh_token": first},
        auth=("demo-rp", "demo-rp-secret"),
        timeout=10,
    )
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
    # The whole family is gone: the newest refresh token and its access token too.
    after = requests.post(
        rp.config["token_endpoint"],
        data={"grant_type": "refresh_token", "refresh_token": renewed["refresh_token"]},
        auth=("demo-rp", "demo-rp-secret"),
        timeout=10,
    )
    assert after.status_code == 400 and after.json()["error"] == "invalid_grant"
    assert rp.userinfo(renewed["access_token"]).status_code == 401
