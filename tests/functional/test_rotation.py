"""Key rotation as relying parties and operators see it.

The relying parties here verify tokens the way real ones do: with a JWKS they
fetched before, refetched only when its Cache-Control max-age has passed (by
the provider's clock, which these tests move instead of sleeping). Not one
token may fail to verify across rotations: the `idp keys` command run by an
operator, by cron (--if-due), or the provider rotating by itself.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import KeySet
from joserfc.jws import extract_compact

from idp import clock
from idp.config import Settings
from idp.keys import ALGORITHMS, KEYSET_FILE, KeyStore

from ..conftest import Live, make_settings, start_live
from ..console import idp
from ..rp import DEMO_CLIENT, DEMO_SECRET, RelyingParty, callback_params

TIMEOUT = 10


# -- the command, as an operator or cron runs it -------------------------------------


@pytest.fixture(scope="module")
def cli_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('cli-db')}/idp.sqlite3"
    settings = make_settings(url, tmp_path_factory.mktemp("cli"), "http://127.0.0.1:8000")
    upgraded = idp(settings, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    return url


@pytest.fixture
def operator(cli_database: str, tmp_path: Path) -> Settings:
    """Settings of a provider with one active and one next key per algorithm, just made."""
    settings = make_settings(cli_database, tmp_path, "http://127.0.0.1:8000")
    KeyStore(settings.keys_dir).ensure()
    return settings


def states(settings: Settings, alg: str) -> list[str]:
    return sorted(r.state for r in KeyStore(settings.keys_dir).records() if r.alg == alg)


def kid_in(settings: Settings, alg: str, state: str) -> str:
    return next(r.kid for r in KeyStore(settings.keys_dir).records() if r.alg == alg and r.state == state)


def backdate(settings: Settings, delta: timedelta) -> None:
    """Make every key in the folder ``delta`` older, as if that time had passed."""
    path = settings.keys_dir / KEYSET_FILE
    data = json.loads(path.read_text())
    for record in data["keys"]:
        for field in ("created", "activated", "retiring_since", "retired"):
            if record.get(field):
                record[field] = (datetime.fromisoformat(record[field]) - delta).isoformat()
    path.write_text(json.dumps(data))


def test_keys_list_prints_one_line_per_key(operator: Settings):
    KeyStore(operator.keys_dir).rotate(("RS256",), max_age=0)
    out = idp(operator, "keys", "list")
    assert out.returncode == 0, out.stderr
    rows = [line.split("\t") for line in out.stdout.splitlines()]
    assert len(rows) == 5
    for kid, alg, state, created, activated in rows:
        assert alg in ALGORITHMS and kid.startswith(alg.lower())
        datetime.fromisoformat(created)
        assert (state, activated == "-") in (("active", False), ("next", True), ("retiring", False))
    assert sorted(row[2] for row in rows if row[1] == "RS256") == ["active", "next", "retiring"]


def test_rotate_refuses_a_young_next_key_in_one_line_and_force_overrides(operator: Settings):
    keyset = (operator.keys_dir / KEYSET_FILE).read_bytes()
    refused = idp(operator, "keys", "rotate")
    assert refused.returncode != 0 and refused.stdout == ""
    assert len(refused.stderr.strip().splitlines()) == 1
    assert "less than the JWKS cache time of 300 s" in refused.stderr and "--force" in refused.stderr
    assert (operator.keys_dir / KEYSET_FILE).read_bytes() == keyset

    promoted = kid_in(operator, "ES256", "next")
    forced = idp(operator, "keys", "rotate", "--force", "--alg", "ES256")
    assert forced.returncode == 0, forced.stderr
    assert states(operator, "ES256") == ["active", "next", "retiring"]
    assert states(operator, "RS256") == ["active", "next"]
    assert kid_in(operator, "ES256", "active") == promoted and promoted in forced.stdout


def test_rotate_if_due_acts_only_on_an_old_active_key(operator: Settings):
    not_due = idp(operator, "keys", "rotate", "--if-due", IDP_KEYS_ROTATE_AFTER_DAYS="30")
    assert not_due.returncode == 0 and "no rotation due" in not_due.stdout
    assert states(operator, "ES256") == ["active", "next"]

    backdate(operator, timedelta(days=31))
    never = idp(operator, "keys", "rotate", "--if-due")  # rotate_after_days = 0: never
    assert never.returncode == 0 and "no rotation due" in never.stdout
    due = idp(operator, "keys", "rotate", "--if-due", IDP_KEYS_ROTATE_AFTER_DAYS="30")
    assert due.returncode == 0, due.stderr
    assert all(states(operator, alg) == ["active", "next", "retiring"] for alg in ALGORITHMS)


def test_prune_retires_keys_only_after_token_lifetime_plus_cache_time(operator: Settings):
    KeyStore(operator.keys_dir).rotate(max_age=0)
    early = idp(operator, "keys", "prune")
    assert early.returncode == 0 and "retired 0 key(s)" in early.stdout

    backdate(operator, timedelta(seconds=operator.longest_token_ttl + operator.jwks_max_age))
    pruned = idp(operator, "keys", "prune")
    assert pruned.returncode == 0 and "retired 2 key(s)" in pruned.stdout
    assert all(states(operator, alg) == ["active", "next", "retired"] for alg in ALGORITHMS)
    retired = [r.kid for r in KeyStore(operator.keys_dir).records() if r.state == "retired"]
    assert not any((operator.keys_dir / f"{kid}.pem").exists() for kid in retired)


# -- relying parties under rotation --------------------------------------------------


class CachingRelyingParty:
    """Verifies tokens with the JWKS it last fetched, and fetches again only
    once the max-age the provider sent has passed on the provider's clock;
    an unknown kid is a failure, not a reason to refetch."""

    def __init__(self, issuer: str) -> None:
        self.issuer = issuer
        self.jwks_uri = requests.get(issuer + "/.well-known/openid-configuration", timeout=TIMEOUT).json()["jwks_uri"]
        self.fetches = 0
        self._fetch()

    def _fetch(self) -> None:
        response = requests.get(self.jwks_uri, timeout=TIMEOUT)
        max_age = int(re.search(r"max-age=(\d+)", response.headers["Cache-Control"]).group(1))  # type: ignore[union-attr]
        self.jwks = KeySet.import_key_set(response.json())
        self.expires = clock.timestamp() + max_age
        self.fetches += 1

    def verify(self, token: str) -> dict[str, Any]:
        if clock.timestamp() >= self.expires:
            self._fetch()
        claims = jwt.decode(token, self.jwks, algorithms=list(ALGORITHMS)).claims
        assert claims["iss"] == self.issuer and claims["exp"] > clock.timestamp()
        return claims


class Tokens:
    """Fresh tokens from the live provider: RFC 9068 access tokens by client
    credentials (ES256) and ID tokens by refreshing a code-flow grant (RS256)."""

    def __init__(self, live: Live) -> None:
        self.live = live
        rp = live.rp()
        granted = rp.exchange(callback_params(live.browser().login(rp.authorization_url())))
        self.refresh_token = granted["refresh_token"]

    def _post(self, data: dict[str, str]) -> dict[str, Any]:
        response = requests.post(self.live.url + "/token", data=data, auth=(DEMO_CLIENT, DEMO_SECRET), timeout=TIMEOUT)
        assert response.status_code == 200, response.text
        return response.json()

    def access_token(self) -> str:
        return self._post({"grant_type": "client_credentials"})["access_token"]

    def id_token(self) -> str:
        body = self._post({"grant_type": "refresh_token", "refresh_token": self.refresh_token})
        self.refresh_token = body["refresh_token"]
        return body["id_token"]

    def both(self) -> list[str]:
        return [self.access_token(), self.id_token()]


def kid(token: str) -> str:
    return extract_compact(token.encode()).protected.get("kid", "")


def unexpired(tokens: list[str]) -> list[str]:
    """The tokens still valid by the provider's clock: a relying party may present any of them."""
    return [t for t in tokens if json.loads(extract_compact(t.encode()).payload)["exp"] > clock.timestamp()]


def store_of(live: Live) -> KeyStore:
    return live.app.extensions["idp.keys"]


def next_kids(live: Live) -> dict[str, str]:
    return {r.alg: r.kid for r in store_of(live).records() if r.state == "next"}


class TokenStream(threading.Thread):
    """Asks for fresh tokens without pause and verifies each with a JWKS
    fetched once, before any rotation."""

    def __init__(self, live: Live, rp: RelyingParty) -> None:
        super().__init__(daemon=True)
        self.tokens, self.rp = Tokens(live), rp
        self.stop = threading.Event()
        self.verified: list[str] = []
        self.failures: list[str] = []

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                access, id_token = self.tokens.both()
                self.rp.verify_access_token(access)
                self.rp.verify_id_token(id_token, nonce=None)
                self.verified += [kid(access), kid(id_token)]
            except Exception as e:  # every failure counts, whatever its kind
                self.failures.append(repr(e))

    def wait_for(self, count: int) -> None:
        deadline = datetime.now() + timedelta(seconds=60)
        while len(self.verified) < count and not self.failures and datetime.now() < deadline:
            self.stop.wait(0.01)


def test_an_rp_with_jwks_fetched_before_verifies_every_token_while_rotate_force_runs(live: Live):
    rp = live.rp()  # fetches the JWKS once, now, and never again
    promoted = next_kids(live)
    stream = TokenStream(live, rp)
    stream.start()
    try:
        stream.wait_for(10)
        rotated = idp(live.settings, "keys", "rotate", "--force")
        assert rotated.returncode == 0, rotated.stderr
        stream.wait_for(len(stream.verified) + 20)
    finally:
        stream.stop.set()
        stream.join(TIMEOUT)
    assert stream.failures == []
    assert set(promoted.values()) <= set(stream.verified), "no token was signed by the promoted keys"


def test_rps_refetching_after_max_age_verify_every_token_across_rotations(live: Live):
    """Rotations as often as the refusal allows (every jwks_max_age), and relying
    parties whose cache periods start at different moments between them."""
    max_age, step = live.settings.jwks_max_age, live.settings.jwks_max_age // 4
    tokens, runner = Tokens(live), live.app.test_cli_runner()
    rps: list[CachingRelyingParty] = []
    issued: list[str] = []
    failures: list[str] = []
    rotations = refusals = 0
    for i in range(24):
        if i < 4:
            rps.append(CachingRelyingParty(live.url))
        issued = unexpired(issued) + tokens.both()
        for rp in rps:
            for token in issued:
                try:
                    rp.verify(token)
                except Exception as e:
                    failures.append(f"step {i}: {kid(token)}: {e!r}")
        with live.app.app_context():
            result = runner.invoke(args=["keys", "rotate"])
        rotations += result.exit_code == 0
        refusals += result.exit_code != 0 and "cache time" in result.output
        clock.advance(timedelta(seconds=step))
    assert failures == []
    assert rotations >= 24 * step // max_age - 1 and refusals > 0
    assert all(rp.fetches > 1 for rp in rps)


@pytest.fixture
def self_rotating(database_url: str, tmp_path: Path, key_template: Path) -> Iterator[Live]:
    """A provider that rotates daily by itself; relying parties cache its JWKS for two hours."""
    yield from start_live(
        database_url,
        tmp_path,
        key_template,
        IDP_KEYS_ROTATE_AFTER_DAYS="1",
        IDP_KEYS_JWKS_MAX_AGE="7200",
    )


def test_the_provider_rotates_by_itself_over_days_without_a_failed_verification(self_rotating: Live):
    live = self_rotating
    store_of(live).check_every = 0  # the clock jumps; look at every signature
    tokens = Tokens(live)
    rps = [CachingRelyingParty(live.url)]
    issued: list[str] = []
    failures: list[str] = []
    seen_active: dict[str, set[str]] = {alg: set() for alg in ALGORITHMS}
    step = timedelta(minutes=40)
    for i in range(3 * 36):  # three days
        if i % 3 == 0 and len(rps) < 4:
            rps.append(CachingRelyingParty(live.url))  # cache periods starting at other moments
        issued = unexpired(issued) + tokens.both()
        for rp in rps:
            for token in issued:
                try:
                    rp.verify(token)
                except Exception as e:
                    failures.append(f"step {i}: {kid(token)}: {e!r}")
        for r in store_of(live).records():
            if r.state == "active":
                seen_active[r.alg].add(r.kid)
        clock.advance(step)
    assert failures == []
    assert all(len(kids) >= 3 for kids in seen_active.values()), seen_active  # a rotation a day
    final = store_of(live).records()
    for alg in ALGORITHMS:
        chain = [r.state for r in final if r.alg == alg]
        assert chain.count("active") == 1 and chain.count("next") == 1 and "retired" in chain
        assert chain.count("retiring") <= 1  # pruned once no token or cache needs them
