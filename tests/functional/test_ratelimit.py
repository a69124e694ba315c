"""Atomic limits on things sent on request: a window opens at the first use,
admits ``limit`` uses, and a use taken by a request that rolls back is given back.
The same behaviour from both stores: the database, and Redis when IDP_REDIS_URL
is set; an unreachable Redis falls back to the database."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
import redis
from sqlalchemy import func, select

from idp import clock, db, ratelimit, redis_limits
from idp.models import RateLimit

from ..conftest import start_live
from ..services import RedisServer, free_port
from .helpers import signed_in_code
from .test_races import race

WINDOW = timedelta(hours=1)
RACERS = 8


@pytest.fixture(params=["database", "redis"])
def limits_app(request, database_url, tmp_path, key_template):
    extra = {"IDP_REDIS_URL": request.getfixturevalue("redis_url")} if request.param == "redis" else {}
    for live in start_live(database_url, tmp_path, key_template, **extra):
        yield live.app


def test_limit_within_a_window_then_a_new_window(limits_app):
    with limits_app.app_context():
        taken = [ratelimit.take("mail:a", 3, WINDOW) for _ in range(4)]
        db.commit()
    assert taken == [True, True, True, False]
    with limits_app.app_context():
        assert ratelimit.take("mail:b", 3, WINDOW), "keys are counted apart"
        clock.advance(WINDOW + timedelta(seconds=1))
        assert ratelimit.take("mail:a", 3, WINDOW), "the window has passed"
        assert ratelimit.take("mail:a", 3, WINDOW)
        db.commit()


def test_a_rolled_back_use_is_given_back(limits_app):
    with limits_app.app_context():
        assert ratelimit.take("sms:a", 1, WINDOW)
        db.session().rollback()
        assert ratelimit.take("sms:a", 1, WINDOW), "the first use was rolled back"
        db.commit()
    with limits_app.app_context():
        assert not ratelimit.take("sms:a", 1, WINDOW)


def test_a_use_of_a_request_that_never_commits_is_given_back(limits_app):
    with limits_app.app_context():
        assert ratelimit.take("sms:d", 1, WINDOW)  # and the request fails before its commit
    with limits_app.app_context():
        assert ratelimit.take("sms:d", 1, WINDOW)
        db.commit()


def test_a_savepoint_rolled_back_gives_nothing_back(limits_app):
    with limits_app.app_context():
        assert ratelimit.take("sms:b", 1, WINDOW)
        with pytest.raises(RuntimeError), db.session().begin_nested():
            raise RuntimeError("a step that failed on its own")
        db.commit()
    with limits_app.app_context():
        assert not ratelimit.take("sms:b", 1, WINDOW)


def test_free_at_is_the_end_of_a_full_window(limits_app):
    with limits_app.app_context():
        started = clock.now()
        assert ratelimit.take("sms:c", 2, WINDOW)
        assert ratelimit.free_at("sms:c", 2, WINDOW) is None, "a use is left"
        assert ratelimit.take("sms:c", 2, WINDOW)
        at = ratelimit.free_at("sms:c", 2, WINDOW)
        db.commit()
    assert at is not None and abs(at - (started + WINDOW)) < timedelta(seconds=2)


def test_racing_takes_admit_exactly_the_limit(limits_app):
    def take() -> bool:
        with limits_app.app_context():
            taken = ratelimit.take("mail:race", 3, WINDOW)
            db.commit()
        return taken

    assert sorted(race(take, contenders=RACERS)) == [False] * (RACERS - 3) + [True] * 3


def _rows(app) -> int:
    with app.app_context():
        return db.session().scalar(select(func.count()).select_from(RateLimit))


def test_with_redis_the_counters_live_in_redis(database_url, tmp_path, key_template, redis_url):
    for live in start_live(database_url, tmp_path, key_template, IDP_REDIS_URL=redis_url):
        with live.app.app_context():
            assert ratelimit.take("mail:d", 3, WINDOW)
            db.commit()
        with redis.Redis.from_url(redis_url) as client:
            assert client.hget(redis_limits.PREFIX + "mail:d", "count") == b"1"
            assert 0 < client.pttl(redis_limits.PREFIX + "mail:d") <= WINDOW.total_seconds() * 1000
        assert _rows(live.app) == 0


def _outage_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "idp.ratelimit" and r.levelno == logging.WARNING]


def test_unreachable_redis_counts_in_the_database_and_says_so_once(database_url, tmp_path, key_template, caplog):
    nowhere = f"redis://:s3cret-pass@127.0.0.1:{free_port()}/0"
    for live in start_live(database_url, tmp_path, key_template, IDP_REDIS_URL=nowhere):
        with live.app.app_context():
            taken = [ratelimit.take("mail:e", 3, WINDOW) for _ in range(4)]
            db.commit()
        assert taken == [True, True, True, False], "the limit still holds"
        assert _rows(live.app) == 1
        code, _ = signed_in_code(live)
        assert code, "sign-ins go on"
    warnings = _outage_warnings(caplog)
    assert len(warnings) == 1 and "unreachable" in warnings[0], warnings
    assert "s3cret-pass" not in caplog.text


def test_redis_answering_again_takes_the_counting_back(database_url, tmp_path, key_template, caplog, monkeypatch):
    monkeypatch.setattr(redis_limits, "RETRY_AFTER", 0.0)
    later = RedisServer()
    for live in start_live(database_url, tmp_path, key_template, IDP_REDIS_URL=later.url):
        with live.app.app_context():
            assert ratelimit.take("mail:f", 3, WINDOW)
            db.commit()
        later.start()
        try:
            with live.app.app_context():
                assert ratelimit.take("mail:g", 3, WINDOW)
                db.commit()
            with redis.Redis.from_url(later.url) as client:
                assert client.hget(redis_limits.PREFIX + "mail:g", "count") == b"1"
        finally:
            later.stop()
        assert _rows(live.app) == 1, "only the use taken while Redis was away"
    assert [w.split(";")[0] for w in _outage_warnings(caplog)] == [
        f"rate limits: Redis unreachable (Error 111 connecting to 127.0.0.1:{later.port}. Connection refused.)",
        "rate limits: Redis answers again",
    ]
