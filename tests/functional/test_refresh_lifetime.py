"""A grant's refresh tokens stop working tokens.refresh_absolute_days (90) after
the sign-in that began it, however often they were rotated; offline_access
grants included."""

from __future__ import annotations

from datetime import timedelta

from idp import clock

from .helpers import code_flow, introspect, refresh


def test_rotating_refresh_tokens_end_at_the_grants_absolute_lifetime(live):
    _, tokens = code_flow(live)  # scope includes offline_access
    assert "offline_access" in tokens["scope"].split()
    token = tokens["refresh_token"]
    absolute = timedelta(days=live.settings.refresh_absolute_days)
    step = timedelta(seconds=live.settings.refresh_token_ttl) - timedelta(days=5)
    elapsed = timedelta()
    while elapsed + step < absolute - timedelta(days=1):
        clock.advance(step)
        elapsed += step
        answer = refresh(live, token)
        assert answer.status_code == 200, (elapsed, answer.text)
        token = answer.json()["refresh_token"]
    clock.advance(absolute - elapsed - timedelta(days=1))  # a day before the end: still good
    answer = refresh(live, token)
    assert answer.status_code == 200, answer.text
    token = answer.json()["refresh_token"]

    # That token was issued a day ago, well within its own lifetime, but the grant ends first.
    clock.advance(timedelta(days=1, minutes=1))
    answer = refresh(live, token)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"
    assert introspect(live, token) == {"active": False}
