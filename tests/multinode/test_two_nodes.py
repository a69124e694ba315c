"""Two provider nodes (separate gunicorn masters on two ports, one PostgreSQL
database, one keys/ folder, one secret key, with and without Redis) behave as
one provider: whatever a browser, a relying party or an operator does at one
node holds at the other."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import redis
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import func, select

from idp import db, redis_limits
from idp.models import RateLimit

from ..conftest import Live
from ..functional.helpers import authorize_url, redeem, refresh, signed_in_code, userinfo
from ..functional.test_races import assert_one_winner
from ..functional.test_single_use_races import race
from ..journeys import set_tenant_mfa
from ..mfa_steps import audit_events, enrol_totp, path_of, sign_in, totp_code, user_named, user_status
from ..rp import DEMO_CLIENT, DEMO_PASSWORD, DEMO_USER, Browser, code_from, pkce_pair, text_of
from ..services import RedisServer
from .conftest import Cluster, start_cluster
from .nodes import WORKERS, at, jwks

LOCKED = "ブロック解除の為のメールをお送りしました"
INCORRECT = "メールアドレスまたはパスワードが正しくありません。"


def code_at(live: Live, browser: Browser | None = None) -> tuple[str, str, Browser]:
    """A code (with PKCE) from a sign-in at ``live``: (code, verifier, browser)."""
    verifier, challenge = pkce_pair()
    code, browser = signed_in_code(live, browser, code_challenge=challenge, code_challenge_method="S256")
    return code, verifier, browser


def tokens_from(live: Live, code: str, verifier: str) -> dict[str, Any]:
    answer = redeem(live, code, verifier)
    assert answer.status_code == 200, answer.text
    return answer.json()


def verified(live: Live, token: str) -> jwt.Token:
    """A token checked against the JWKS that ``live`` publishes now."""
    decoded = jwt.decode(token, KeySet.import_key_set(jwks(live)), algorithms=["RS256", "ES256"])
    assert decoded.claims["iss"] == live.settings.issuer
    return decoded


def test_a_sign_in_started_at_a_finishes_at_b(cluster: Cluster):
    a, b = cluster.a, cluster.b
    set_tenant_mfa(a, True)
    secret, _recovery = enrol_totp(a)
    verifier, challenge = pkce_pair()
    browser = a.browser()
    login = browser.get(authorize_url(a, code_challenge=challenge, code_challenge_method="S256"))
    assert login.status_code == 200 and login.url.startswith(a.url) and path_of(login) == "/login"

    at_b = at(b, browser)
    challenge_page = at_b.submit({"email": DEMO_USER, "password": DEMO_PASSWORD})
    assert challenge_page.url.startswith(b.url) and path_of(challenge_page) == "/mfa/challenge"
    code = code_from(at_b.submit({"code": totp_code(secret)}))

    tokens = tokens_from(a, code, verifier)
    claims = verified(b, tokens["id_token"]).claims
    assert claims["aud"] == DEMO_CLIENT and claims["nonce"] == "n-456" and "mfa" in claims["amr"]
    renewed = refresh(b, tokens["refresh_token"])
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["refresh_token"] != tokens["refresh_token"]
    assert userinfo(a, renewed.json()["access_token"]).json()["email"] == DEMO_USER
    assert refresh(a, tokens["refresh_token"]).json()["error"] == "invalid_grant", "rotated at B, dead at A"


def test_a_refresh_token_used_at_a_and_b_at_once_has_one_winner(cluster: Cluster):
    a, b = cluster.a, cluster.b
    browser = None
    for _ in range(3):
        code, verifier, browser = code_at(a, browser)
        token = tokens_from(b, code, verifier)["refresh_token"]
        assert_one_winner(race(lambda token=token: refresh(a, token), lambda token=token: refresh(b, token)))


def _keys(cluster: Cluster) -> dict[tuple[str, str], str]:
    """`idp keys list` as (alg, state) -> kid."""
    listed = cluster.idp("keys", "list")
    assert listed.returncode == 0, listed.stderr
    rows = [line.split() for line in listed.stdout.splitlines() if line.strip()]
    return {(row[1], row[2]): row[0] for row in rows}


def test_one_key_rotation_is_seen_by_both_nodes_without_a_restart(cluster: Cluster):
    a, b = cluster.a, cluster.b
    code, verifier, browser = code_at(a)
    old = tokens_from(b, code, verifier)
    keys = _keys(cluster)
    assert verified(a, old["id_token"]).header["kid"] == keys[("RS256", "active")]
    assert jwks(a) == jwks(b)

    rotated = cluster.idp("keys", "rotate", "--force")
    assert rotated.returncode == 0, rotated.stderr

    published = {key["kid"] for key in jwks(a)["keys"]}
    assert jwks(b) == jwks(a)
    assert {keys[("RS256", "active")], keys[("RS256", "next")], keys[("ES256", "next")]} <= published
    for issuing, redeeming in ((a, b), (b, a)):
        code, verifier, browser = code_at(issuing, browser)
        new = tokens_from(redeeming, code, verifier)
        assert verified(issuing, new["id_token"]).header["kid"] == keys[("RS256", "next")]
        assert verified(redeeming, new["access_token"]).header["kid"] == keys[("ES256", "next")]
        assert verified(issuing, old["id_token"]).claims["sub"] == verified(redeeming, new["id_token"]).claims["sub"]


def test_an_account_locks_after_failures_split_across_a_and_b(cluster: Cluster):
    a, b = cluster.a, cluster.b
    answers = [sign_in(node.browser(), DEMO_USER, "Wrong-pass-1") for node in (a, b) * 5]
    assert all(answer.status_code == 401 for answer in answers)
    assert all(INCORRECT in text_of(answer.text) for answer in answers[:9])
    assert LOCKED in answers[9].text, "the tenth failure, at B, locks the account"
    assert user_status(a) == "locked"
    assert [e.detail["consecutive"] for e in audit_events(a, "login.failure")] == list(range(1, 11))
    for node in (a, b):
        right = sign_in(node.browser(), DEMO_USER, DEMO_PASSWORD)
        assert right.status_code == 401 and LOCKED in right.text


def eventually(check: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    """Wait for work a node does after its response (mails, their audit events)."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what} did not happen"
        time.sleep(0.1)


def test_a_rate_limit_holds_across_nodes(cluster: Cluster, mail):
    """Three reset mails an hour, asked for at once from six browsers, three at each node."""
    a, b = cluster.a, cluster.b
    browsers = [node.browser() for node in (a, b) * 3]
    for browser in browsers:
        assert browser.get("/password/forgot").status_code == 200
    answers = race(*(lambda browser=browser: browser.submit({"email": DEMO_USER}) for browser in browsers))
    assert all(answer.status_code == 200 for answer in answers)

    eventually(lambda: len(audit_events(a, "password.reset_requested")) == len(browsers), "six requests recorded")
    sent = sorted(e.detail["sent"] for e in audit_events(a, "password.reset_requested"))
    assert sent == [False] * 3 + [True] * 3
    eventually(lambda: mail.inbox.count(DEMO_USER) == 3, "three mails")
    assert _counted(cluster, f"reset-mail:{_user_id(a)}") == 3


@pytest.fixture
def redis_goes_away(nodes_database, tmp_path, key_template, mail):
    """Two nodes with a Redis of their own, which the test stops."""
    server = RedisServer().start()
    try:
        for cluster in start_cluster(nodes_database, tmp_path, key_template, mail, server.url):
            yield cluster, server
    finally:
        server.stop()


def test_without_redis_the_nodes_count_in_the_database_and_say_so(redis_goes_away, mail):
    cluster, server = redis_goes_away
    a, b = cluster.a, cluster.b
    server.stop()
    assert code_at(a)[0] and code_at(b)[0], "sign-ins go on"
    for node in (a, b) * 3:
        browser = node.browser()
        browser.get("/password/forgot")
        assert browser.submit({"email": DEMO_USER}).status_code == 200
    eventually(lambda: len(audit_events(a, "password.reset_requested")) == 6, "six requests recorded")
    sent = [e.detail["sent"] for e in audit_events(a, "password.reset_requested")]
    assert sent == [True] * 3 + [False] * 3, "the limit holds across nodes, counted in the database"
    with a.app.app_context():
        assert db.session().scalar(select(RateLimit.count)) == 3
    for node in cluster.nodes.values():
        said = node.log.read_text().count("rate limits: Redis unreachable")
        assert 1 <= said <= WORKERS, "once in each worker that needed it"


def _user_id(live: Live) -> str:
    with live.app.app_context():
        return user_named().id


def _counted(cluster: Cluster, key: str) -> int:
    """The uses of ``key`` in the store the nodes share: Redis when set, else the database."""
    with cluster.a.app.app_context():
        rows = db.session().execute(select(RateLimit.key, RateLimit.count)).all()
        assert db.session().scalar(select(func.count()).select_from(RateLimit)) == len(rows)
    if not cluster.redis_url:
        return dict(rows)[key]
    assert rows == [], "with Redis set, nothing is counted in the database"
    with redis.Redis.from_url(cluster.redis_url) as client:
        return int(client.hget(redis_limits.PREFIX + key, "count"))
