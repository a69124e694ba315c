"""`idp client rotate-secret` and `idp client delete` as a relying party lives
them: the previous secret works through its grace and not after; a deleted
client's tokens stop at their next use and its secret stops authenticating."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from idp import clock, db
from idp.models import AuditEvent
from idp.oidc.clients import CACHE_SECONDS

from ..client_steps import client_credentials, ok, printed, refusal, refused, relying_party, shown, web_client
from .helpers import code_flow, introspect, post, refresh, userinfo

PAST_CACHE = timedelta(seconds=CACHE_SECONDS + 1)  # every worker has read the registration again


def rotate(live, client_id: str, *args: str) -> tuple[str, datetime]:  # type: ignore[no-untyped-def]
    out = printed(ok(live, "client", "rotate-secret", client_id, *args))
    return out["client_secret"], datetime.fromisoformat(out["previous secret accepted until"])


def works(live, client_id: str, secret: str) -> bool:  # type: ignore[no-untyped-def]
    """client_secret_post authenticates with ``secret`` (a token, or invalid_client)."""
    credentials = {"client_id": client_id, "client_secret": secret}
    response = post(live, "/token", {"grant_type": "client_credentials", **credentials})
    assert response.status_code == 200 or response.json()["error"] == "invalid_client", response.text
    return response.status_code == 200


def test_the_previous_secret_works_through_the_grace_and_not_after(live):
    client_id, first = web_client(live, "--auth-method", "client_secret_post")
    assert first is not None and works(live, client_id, first)
    second, until = rotate(live, client_id)
    assert second != first
    # 24 hours by default (clients.secret_grace_hours)
    assert abs(until - clock.now() - timedelta(hours=24)) < timedelta(minutes=5)
    assert shown(live, client_id)["previous secret accepted until"] == until.isoformat(timespec="seconds")
    assert works(live, client_id, second)  # at once, though the provider had the registration cached
    assert works(live, client_id, first)

    clock.advance(timedelta(hours=23, minutes=50))
    assert works(live, client_id, first)
    clock.advance(timedelta(minutes=11))
    assert not works(live, client_id, first)
    assert works(live, client_id, second)


def test_a_second_rotation_in_the_grace_drops_the_oldest_secret(live):
    client_id, first = web_client(live, "--auth-method", "client_secret_post")
    second, _ = rotate(live, client_id)
    assert works(live, client_id, first)
    third, _ = rotate(live, client_id, "--grace-hours", "2")
    assert not works(live, client_id, first)
    assert works(live, client_id, second) and works(live, client_id, third)
    clock.advance(timedelta(hours=2, minutes=1))
    assert not works(live, client_id, second) and works(live, client_id, third)


def test_a_rotation_without_grace_ends_the_old_secret(live):
    client_id, secret = web_client(live, "--auth-method", "client_secret_basic")
    rp = relying_party(live, client_id, secret, "client_secret_basic")
    assert client_credentials(rp)["token_type"] == "Bearer"
    new_secret, until = rotate(live, client_id, "--grace-hours", "0")
    assert until <= clock.now()
    clock.advance(PAST_CACHE)
    assert refusal(lambda: client_credentials(rp)) == "invalid_client"
    assert client_credentials(relying_party(live, client_id, new_secret, "client_secret_basic"))


def test_rotation_refusals_are_one_line(live):
    public_id = printed(
        ok(live, "client", "create", "--name", "App", "--public", "--redirect-uri", "https://a.example/cb")
    )
    assert "has no secret" in refused(live, "client", "rotate-secret", public_id["client_id"])
    for grace in ("-1", "1.5", "abc", "100000"):
        assert "--grace-hours" in refused(live, "client", "rotate-secret", "demo-rp", "--grace-hours", grace)
    assert works_basic_demo(live)


def works_basic_demo(live) -> bool:  # type: ignore[no-untyped-def]
    response = post(live, "/token", {"grant_type": "client_credentials"}, auth=("demo-rp", "demo-rp-secret"))
    return response.status_code == 200


def test_delete_stops_the_clients_tokens_and_its_secret(live):
    client_id, secret = web_client(live, "--auth-method", "client_secret_basic", name="Closing shop")
    assert secret is not None
    rp = relying_party(live, client_id, secret, "client_secret_basic")
    _, token = code_flow(live, rp)
    machine_token = client_credentials(rp)["access_token"]
    for live_token in (token["access_token"], token["refresh_token"], machine_token):
        assert introspect(live, live_token, client_id, secret)["active"] is True
    assert userinfo(live, token["access_token"]).status_code == 200

    assert ok(live, "client", "delete", client_id).strip() == f"deleted {client_id}; 1 grant(s) revoked"

    assert userinfo(live, token["access_token"]).status_code == 401
    failed = refresh(live, token["refresh_token"], client_id, secret)
    assert failed.status_code in (400, 401) and failed.json()["error"] in ("invalid_grant", "invalid_client")
    for dead_token in (token["access_token"], token["refresh_token"], machine_token):
        asked = post(live, "/introspect", {"token": dead_token}, auth=(client_id, secret))
        # Inactive, or (once the worker has read the registration again) no such client.
        assert asked.json().get("active") is False or asked.json()["error"] == "invalid_client"

    clock.advance(PAST_CACHE)
    assert refusal(lambda: client_credentials(rp)) == "invalid_client"
    assert refresh(live, token["refresh_token"], client_id, secret).json()["error"] == "invalid_client"
    assert post(live, "/introspect", {"token": machine_token}, auth=(client_id, secret)).status_code == 401
    assert client_id not in ok(live, "client", "list")
    assert "no client with id" in refused(live, "client", "show", client_id)
    assert works_basic_demo(live)  # other clients go on


def client_events(live) -> list[tuple[str, str | None, dict]]:  # type: ignore[no-untyped-def]
    with live.app.app_context():
        rows = db.session().scalars(
            select(AuditEvent).where(AuditEvent.event.like("client.%")).order_by(AuditEvent.created_at)
        )
        return [(row.event, row.client_id, dict(row.detail)) for row in rows]


def test_create_rotate_and_delete_are_audited_without_secrets(live):
    client_id, first = web_client(live, "--auth-method", "client_secret_post")
    second, _ = rotate(live, client_id)
    ok(live, "client", "delete", client_id)
    events = client_events(live)
    assert [(event, owner) for event, owner, _ in events] == [
        ("client.created", client_id),
        ("client.secret_rotated", client_id),
        ("client.deleted", client_id),
    ]
    assert events[0][2]["auth_method"] == "client_secret_post"
    assert events[2][2]["grants_revoked"] == 0
    recorded = repr(events)
    assert first and first not in recorded and second not in recorded
