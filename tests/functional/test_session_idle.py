"""A browser session unused for session.idle_minutes (60) ends; each use keeps
it alive, recorded at most once a minute so that requests seldom write."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from idp import clock, db
from idp.models import BrowserSession

from ..rp import callback_params
from .helpers import authorize_url, signed_in_code


def has_session(live, browser) -> bool:  # type: ignore[no-untyped-def]
    answer = callback_params(browser.get(authorize_url(live, prompt="none")))
    assert "code" in answer or answer.get("error") == "login_required", answer
    return "code" in answer


def last_seen(live):  # type: ignore[no-untyped-def]
    with live.app.app_context():
        return db.session().scalars(select(BrowserSession.last_seen_at)).one()


def test_a_session_unused_for_longer_than_the_idle_limit_ends(live):
    _, browser = signed_in_code(live)
    clock.advance(timedelta(minutes=live.settings.session_idle_minutes, seconds=1))
    assert not has_session(live, browser)
    page = browser.get("/account")
    assert page.url.startswith(live.url + "/account/login")


def test_a_session_in_use_outlives_the_idle_limit(live):
    _, browser = signed_in_code(live)
    for _ in range(3):
        clock.advance(timedelta(minutes=live.settings.session_idle_minutes - 5))
        assert has_session(live, browser)


def test_a_use_is_written_at_most_once_a_minute(live):
    _, browser = signed_in_code(live)
    signed_in_at = last_seen(live)
    clock.advance(timedelta(seconds=30))
    assert has_session(live, browser)
    assert last_seen(live) == signed_in_at
    clock.advance(timedelta(seconds=45))
    assert has_session(live, browser)
    assert last_seen(live) - signed_in_at >= timedelta(seconds=75)
