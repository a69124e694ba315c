"""Atomic limits on things sent on request: a window opens at the first use,
admits ``limit`` uses, and a use taken by a request that rolls back is given back."""

from __future__ import annotations

from datetime import timedelta

from idp import clock, db, ratelimit

WINDOW = timedelta(hours=1)


def test_limit_within_a_window_then_a_new_window(app):
    with app.app_context():
        taken = [ratelimit.take("mail:a", 3, WINDOW) for _ in range(4)]
        db.commit()
    assert taken == [True, True, True, False]
    with app.app_context():
        assert ratelimit.take("mail:b", 3, WINDOW), "keys are counted apart"
        clock.advance(WINDOW + timedelta(seconds=1))
        assert ratelimit.take("mail:a", 3, WINDOW), "the window has passed"
        assert ratelimit.take("mail:a", 3, WINDOW)
        db.commit()


def test_a_rolled_back_use_is_given_back(app):
    with app.app_context():
        assert ratelimit.take("sms:a", 1, WINDOW)
        db.session().rollback()
        assert ratelimit.take("sms:a", 1, WINDOW), "the first use was rolled back"
        db.commit()
    with app.app_context():
        assert not ratelimit.take("sms:a", 1, WINDOW)
