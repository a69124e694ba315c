"""Prometheus metrics, in multiprocess mode under gunicorn.

Under gunicorn (config/gunicorn.py) every worker writes its counts to files in
PROMETHEUS_MULTIPROC_DIR and a scrape of any worker adds them up; in a single
process without that folder the default registry serves. The metrics are
module globals because prometheus_client allows each name once per process.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from .. import clock
from ..keys import KeyStore

REQUESTS = Counter("idp_http_requests", "HTTP requests by Flask endpoint and status.", ["endpoint", "status"])
LATENCY = Histogram("idp_http_request_duration_seconds", "Time to answer a request, by Flask endpoint.", ["endpoint"])
SIGN_INS = Counter("idp_sign_ins", "Sign-in attempts by outcome and method.", ["outcome", "method"])
LOCKOUTS = Counter("idp_lockouts", "Accounts locked after repeated failures.")
TOKEN_GRANTS = Counter("idp_token_grants", "Tokens issued by grant type.", ["grant_type"])

# Audit events that are sign-in attempts, and the outcome each one stands for.
SIGN_IN_EVENTS = {
    "login.success": "success",
    "login.failure": "failure",
    "login.refused": "refused",
    "login.throttled": "throttled",
}
LOCKOUT_EVENT = "account.locked"


def observe_request(endpoint: str, status: int, seconds: float) -> None:
    count, latency = _request_series(endpoint, status)
    count.inc()
    latency.observe(seconds)


@lru_cache(maxsize=4096)
def _request_series(endpoint: str, status: int) -> tuple[Any, Any]:
    """The two series of an endpoint and status, looked up once per worker:
    ``labels()`` validates and locks on every call. Endpoints are Flask's,
    never raw paths, so the set is small."""
    return REQUESTS.labels(endpoint, str(status)), LATENCY.labels(endpoint)


def count_audit_event(event: str, detail: dict[str, Any]) -> None:
    """Sign-ins and lockouts are counted from the audit events that record them,
    so the metrics and the audit trail cannot tell different stories."""
    if outcome := SIGN_IN_EVENTS.get(event):
        SIGN_INS.labels(outcome, str(detail.get("method") or "unknown")).inc()
    elif event == LOCKOUT_EVENT:
        LOCKOUTS.inc()


def count_grant(grant_type: str) -> None:
    TOKEN_GRANTS.labels(grant_type).inc()


class KeyAge:
    """idp_signing_key_age_seconds, read from the key folder at scrape time (a
    rotation by another process shows at once; nothing to keep in step)."""

    def __init__(self, keys: KeyStore) -> None:
        self.keys = keys

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "idp_signing_key_age_seconds", "Age of the active signing key, by algorithm.", labels=["alg"]
        )
        now = clock.now()
        for record in self.keys.records():
            if record.state == "active":
                since = record.time("activated") or record.time("created")
                family.add_metric([record.alg], (now - since).total_seconds())  # type: ignore[operator]
        yield family


def exposition(keys: KeyStore) -> bytes:
    """The scrape: every worker's counts (or this process's) and the key age."""
    registry = CollectorRegistry(auto_describe=True)
    if folder := os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry, path=folder)
    else:
        registry.register(REGISTRY)  # type: ignore[arg-type]
    registry.register(KeyAge(keys))  # type: ignore[arg-type]
    return generate_latest(registry)


def access(environ: dict[str, Any], token: str) -> int | None:
    """None when the scrape may proceed, else the status to answer: with a token
    configured, 401 unless the bearer token matches (from anywhere); without
    one, 403 unless the TCP peer is a loopback address. X-Forwarded-For never
    makes a peer local; its presence makes it remote, since a reverse proxy on
    this machine would otherwise hand the metrics to the whole internet."""
    if token:
        scheme, _, given = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        ok = scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())
        return None if ok else 401
    if "HTTP_X_FORWARDED_FOR" in environ or "HTTP_FORWARDED" in environ:
        return 403
    try:
        local = ipaddress.ip_address(environ.get("REMOTE_ADDR") or "").is_loopback
    except ValueError:
        local = False
    return None if local else 403
