"""/metrics: Prometheus text that adds up every gunicorn worker's counts, and
answers only the bearer of IDP_METRICS_TOKEN or, without one, loopback peers."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from ..conftest import Live, start_live
from ..mfa_steps import sign_in
from ..rp import DEMO_PASSWORD, DEMO_USER, basic_auth, callback_params
from ..served import Served, gunicorn

TIMEOUT = 10
TOKEN = "metrics-" + "t" * 40


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a scrape by name and labels."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(scrape: dict, name: str, **labels: str) -> float:
    return scrape.get((name, frozenset(labels.items())), 0.0)


def scrape(url: str, **headers: str) -> dict:
    response = requests.get(url + "/metrics", headers=headers, timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/plain")
    return samples(response.text)


def pids_of(served: Served, path: str) -> set[int]:
    lines = [json.loads(line) for line in served.log_text().splitlines() if line.startswith("{")]
    return {line["pid"] for line in lines if line.get("logger") == "idp.request" and line.get("path") == path}


@pytest.fixture
def two_workers(database_url: str, tmp_path: Path, key_template: Path) -> Iterator[Served]:
    with gunicorn(database_url, tmp_path, key_template, workers=2) as server:
        yield server


def test_counts_add_up_across_two_workers(two_workers):
    url = two_workers.live.url
    before = scrape(url)  # the start-up wait asked /healthz already
    probes = 0
    # Sync workers take connections from one socket in turn; go on until both have
    # answered some (the log names each line's process).
    while probes < 10 or len(pids_of(two_workers, "/healthz")) < 2:
        assert requests.get(url + "/healthz", timeout=TIMEOUT).status_code == 200
        probes += 1
        assert probes < 400, "one worker answered every request"
    rp = two_workers.live.rp()
    token = rp.exchange(callback_params(two_workers.live.browser().login(rp.authorization_url())))
    rp.refresh(token["refresh_token"])
    machine = requests.post(url + "/token", data={"grant_type": "client_credentials"}, auth=basic_auth(), timeout=10)
    assert machine.status_code == 200  # answered by the fast path, counted all the same
    assert "/login" in sign_in(two_workers.live.browser(), DEMO_USER, "not-" + DEMO_PASSWORD).url

    counts = scrape(url)
    for name in ("idp_http_requests_total", "idp_http_request_duration_seconds_count"):
        labels = {"endpoint": "operations.healthz"} | ({"status": "200"} if name.endswith("requests_total") else {})
        assert value(counts, name, **labels) == value(before, name, **labels) + probes, name
    assert value(counts, "idp_sign_ins_total", outcome="success", method="pwd") == 1
    assert value(counts, "idp_sign_ins_total", outcome="failure", method="pwd") == 1
    for grant in ("authorization_code", "refresh_token", "client_credentials"):
        assert value(counts, "idp_token_grants_total", grant_type=grant) == 1, grant
    assert value(counts, "idp_http_requests_total", endpoint="oidc.token", status="200") == 3
    assert value(counts, "idp_http_requests_total", endpoint="oidc.jwks", status="200") == 1
    # Label values are endpoint names, never raw paths, whatever was asked for.
    requests.get(url + "/no/such/path?x=1", timeout=TIMEOUT)
    # A request is counted as its worker closes it, just after the answer left.
    deadline = time.monotonic() + 10
    while value(counts := scrape(url), "idp_http_requests_total", endpoint="unmatched", status="404") < 1:
        assert time.monotonic() < deadline, "the 404 was never counted"
        time.sleep(0.05)
    assert value(counts, "idp_http_requests_total", endpoint="unmatched", status="404") == 1
    endpoints = {dict(labels).get("endpoint", "") for _, labels in counts}
    assert not any(e.startswith("/") for e in endpoints), endpoints
    ages = {dict(labels)["alg"]: v for (name, labels), v in counts.items() if name == "idp_signing_key_age_seconds"}
    assert set(ages) == {"RS256", "ES256"} and all(age >= 0 for age in ages.values()), ages


def test_with_a_token_only_its_bearer_gets_the_metrics(database_url, tmp_path, key_template):
    with gunicorn(database_url, tmp_path, key_template, IDP_METRICS_TOKEN=TOKEN) as served:
        url = served.live.url + "/metrics"
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
            refused = requests.get(url, headers=headers, timeout=TIMEOUT)
            assert refused.status_code == 401, headers  # from loopback too
            assert refused.headers["WWW-Authenticate"].startswith("Bearer")
            assert "idp_" not in refused.text
        assert "idp_http_requests_total" in requests.get(url, headers={"Authorization": f"Bearer {TOKEN}"}).text


@pytest.fixture
def token_live(database_url, tmp_path, key_template) -> Iterator[Live]:
    yield from start_live(database_url, tmp_path, key_template, IDP_METRICS_TOKEN=TOKEN)


def from_peer(live: Live, address: str, **headers: str):  # type: ignore[no-untyped-def]
    """The application as reached from ``address`` (the TCP peer gunicorn reports)."""
    client = live.app.test_client()
    return client.get("/metrics", environ_base={"REMOTE_ADDR": address}, headers=headers)


def test_without_a_token_only_loopback_peers_get_the_metrics(live):
    assert from_peer(live, "127.0.0.1").status_code == 200
    assert from_peer(live, "::1").status_code == 200
    assert from_peer(live, "192.0.2.10").status_code == 403
    # A forwarded request came from elsewhere, even through a proxy on this machine,
    # and naming loopback in X-Forwarded-For makes nobody local.
    assert from_peer(live, "127.0.0.1", **{"X-Forwarded-For": "192.0.2.10"}).status_code == 403
    assert from_peer(live, "192.0.2.10", **{"X-Forwarded-For": "127.0.0.1"}).status_code == 403


def test_with_a_token_any_peer_with_it_gets_the_metrics(token_live):
    assert from_peer(token_live, "192.0.2.10", Authorization=f"Bearer {TOKEN}").status_code == 200
    assert from_peer(token_live, "127.0.0.1").status_code == 401


def test_lockouts_are_counted(live):
    """Ten failures lock the account (idp/auth/throttle.py); one lockout counted."""
    before = value(samples(from_peer(live, "127.0.0.1").get_data(as_text=True)), "idp_lockouts_total")
    for _ in range(10):
        sign_in(live.browser(), DEMO_USER, "not-" + DEMO_PASSWORD)
    after = samples(from_peer(live, "127.0.0.1").get_data(as_text=True))
    assert value(after, "idp_lockouts_total") == before + 1
