"""Graceful shutdown: SIGTERM to a node's master lets the request in flight
finish (config/gunicorn.py graceful_timeout), and the other node carries on
from where it ended."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
import requests
from argon2 import PasswordHasher
from sqlalchemy import make_url

from idp import db
from idp.auth import login

from ..conftest import Live
from ..functional.helpers import authorize_url, redeem
from ..mfa_steps import path_of, post_form, user_named
from ..rp import DEMO_PASSWORD, DEMO_USER, code_from, pkce_pair
from .nodes import at

# An argon2id hash whose verify takes about two seconds: long enough to send
# SIGTERM while it runs (a verify follows the stored hash's own cost).
SLOW = PasswordHasher(time_cost=16, memory_cost=65536, parallelism=1)


def _slow_password(live: Live) -> None:
    with live.app.app_context():
        identity = login.password_identity(user_named())
        assert identity is not None
        identity.password_hash = SLOW.hash(DEMO_PASSWORD)
        db.commit()


def _waiting_in_a_transaction(database_url: str) -> bool:
    """Whether a node holds a transaction open between two statements, as a
    sign-in does while it verifies the password it has just looked up."""
    url = make_url(database_url)
    with psycopg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False)) as conn:
        return bool(
            conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND state = 'idle in transaction'",
                (url.database,),
            ).fetchone()[0]
        )


@pytest.mark.parametrize("cluster", ["database"], indirect=True)
def test_sigterm_lets_a_sign_in_in_flight_finish(cluster):
    a, b = cluster.a, cluster.b
    _slow_password(a)
    verifier, challenge = pkce_pair()
    browser = a.browser()
    assert path_of(browser.get(authorize_url(a, code_challenge=challenge, code_challenge_method="S256"))) == "/login"
    answers: list[requests.Response | requests.RequestException] = []

    def sign_in() -> None:
        try:
            answers.append(post_form(browser, {"email": DEMO_USER, "password": DEMO_PASSWORD}))
        except requests.RequestException as e:
            answers.append(e)

    signing_in = threading.Thread(target=sign_in)
    signing_in.start()
    deadline = time.monotonic() + 30
    while not _waiting_in_a_transaction(a.settings.database_url):
        assert time.monotonic() < deadline and signing_in.is_alive(), "the sign-in never reached its verify"
        time.sleep(0.02)
    assert signing_in.is_alive(), "the sign-in is in flight"

    assert cluster.nodes["a"].terminate() == 0, cluster.nodes["a"].log.read_text()
    signing_in.join(30)
    [answer] = answers
    assert isinstance(answer, requests.Response), f"the sign-in was cut off: {answer!r}"
    assert answer.is_redirect, (answer.status_code, answer.text[:300])
    assert '"POST /login" 302' in cluster.nodes["a"].log.read_text()
    with pytest.raises(requests.ConnectionError):
        requests.get(a.url + "/.well-known/openid-configuration", timeout=5)

    # The sign-in A finished is the browser's at B: the code it answered with
    # redeems there, and its session signs the browser in there at once.
    tokens = redeem(b, code_from(answer), verifier)
    assert tokens.status_code == 200, tokens.text
    again_verifier, again_challenge = pkce_pair()
    again = at(b, browser).get(authorize_url(b, code_challenge=again_challenge, code_challenge_method="S256"))
    assert redeem(b, code_from(again), again_verifier).status_code == 200
