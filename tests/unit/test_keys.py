"""The key folder: states, transitions, the JWKS each state publishes, refusals,
pruning, files on disk, rotations cut short, and the provider's own schedule."""

from __future__ import annotations

import fcntl
import json
import logging
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from idp import clock
from idp.keys import ALGORITHMS, KEYSET_FILE, KeyError_, KeyRecord, KeyStore, RotationPolicy

T0 = datetime(2026, 1, 1, tzinfo=UTC)
MAX_AGE = 300
KEEP_FOR = 3600 + MAX_AGE  # longest token lifetime plus the JWKS cache time


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("key-template") / "keys"
    KeyStore(folder).ensure(T0)
    return folder


@pytest.fixture
def store(template: Path, tmp_path: Path) -> KeyStore:
    """A fresh copy of a key folder made at T0: one active and one next key per algorithm."""
    folder = tmp_path / "keys"
    shutil.copytree(template, folder)
    return KeyStore(folder)


@pytest.fixture(autouse=True)
def _real_clock() -> Iterator[None]:
    yield
    clock.reset()


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def by_state(store: KeyStore, alg: str) -> dict[str, list[KeyRecord]]:
    states: dict[str, list[KeyRecord]] = {}
    for r in store.records():
        if r.alg == alg:
            states.setdefault(r.state, []).append(r)
    return states


def kid_of(store: KeyStore, alg: str, state: str) -> str:
    (record,) = by_state(store, alg)[state]
    return record.kid


def published_kids(store: KeyStore) -> set[str]:
    return {key["kid"] for key in store.current().jwks["keys"]}


def sign(store: KeyStore, alg: str = "ES256") -> str:
    key = store.current().signing_key(alg)
    return jwt.encode({"alg": alg, "kid": key.kid}, {"sub": "x"}, key, algorithms=[alg])


def verifies(token: str, jwks: dict) -> bool:
    try:
        jwt.decode(token, KeySet.import_key_set(jwks), algorithms=list(ALGORITHMS))
    except Exception:
        return False
    return True


def pem_files(store: KeyStore) -> set[str]:
    return {p.name for p in store.folder.glob("*.pem")}


def assert_consistent(store: KeyStore) -> None:
    """Each chain has one active and one next key, every published key has its PEM
    and loads, and no half-written file is left behind a finished change."""
    for alg in ALGORITHMS:
        states = by_state(store, alg)
        assert len(states["active"]) == 1 and len(states["next"]) == 1, states
    published = {f"{r.kid}.pem" for r in store.records() if r.state in ("next", "active", "retiring")}
    assert published <= pem_files(store)
    assert verifies(sign(store, "ES256"), store.current().jwks)
    assert verifies(sign(store, "RS256"), store.current().jwks)


# -- states and transitions --------------------------------------------------------


def test_ensure_creates_an_active_and_a_next_key_per_algorithm(store: KeyStore):
    for alg in ALGORITHMS:
        states = by_state(store, alg)
        assert sorted(states) == ["active", "next"]
        assert states["active"][0].activated == T0.isoformat() and states["next"][0].activated is None
    assert store.ensure(at(10)) is False  # nothing missing, nothing written


def test_rotation_moves_each_chain_one_step(store: KeyStore):
    before = {alg: (kid_of(store, alg, "active"), kid_of(store, alg, "next")) for alg in ALGORITHMS}
    store.rotate(max_age=MAX_AGE, now=at(MAX_AGE))
    for alg, (old_active, old_next) in before.items():
        states = by_state(store, alg)
        assert [r.kid for r in states["retiring"]] == [old_active]
        assert states["retiring"][0].retiring_since == at(MAX_AGE).isoformat()
        assert [r.kid for r in states["active"]] == [old_next]
        assert states["active"][0].activated == at(MAX_AGE).isoformat()
        assert states["next"][0].kid not in (old_active, old_next)
    store.rotate(max_age=MAX_AGE, now=at(2 * MAX_AGE))
    assert all(len(by_state(store, alg)["retiring"]) == 2 for alg in ALGORITHMS)


def test_rotation_of_one_algorithm_leaves_the_other_chain_alone(store: KeyStore):
    rs_before = by_state(store, "RS256")
    store.rotate(("ES256",), max_age=MAX_AGE, now=at(MAX_AGE))
    assert by_state(store, "RS256") == rs_before
    assert "retiring" in by_state(store, "ES256")


# -- the JWKS per state --------------------------------------------------------------


def test_jwks_publishes_next_active_and_retiring_but_not_retired(store: KeyStore):
    first = {r.kid for r in store.records()}
    assert published_kids(store) == first  # active and next

    store.rotate(max_age=MAX_AGE, now=at(MAX_AGE))
    retiring = {r.kid for r in store.records() if r.state == "retiring"}
    assert published_kids(store) == {r.kid for r in store.records()}  # next, active, retiring
    assert len(published_kids(store)) == 6

    retired = store.prune(KEEP_FOR, now=at(MAX_AGE + KEEP_FOR))
    assert {r.kid for r in retired} == retiring
    assert published_kids(store) == {r.kid for r in store.records() if r.state != "retired"}
    assert not published_kids(store) & retiring
    assert all(not (store.folder / f"{kid}.pem").exists() for kid in retiring)
    assert all(r.retired == at(MAX_AGE + KEEP_FOR).isoformat() for r in retired)


def test_jwks_holds_only_public_keys(store: KeyStore):
    for key in store.current().jwks["keys"]:
        assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key)
        assert key["use"] == "sig" and key["alg"] in ALGORITHMS


def test_a_token_signed_before_a_rotation_verifies_with_the_jwks_after_it(store: KeyStore):
    before = {alg: sign(store, alg) for alg in ALGORITHMS}
    store.rotate(max_age=MAX_AGE, now=at(MAX_AGE))
    assert all(verifies(token, store.current().jwks) for token in before.values())


def test_a_jwks_cached_before_a_rotation_verifies_tokens_signed_after_it(store: KeyStore):
    cached = store.current().jwks
    store.rotate(max_age=MAX_AGE, now=at(MAX_AGE))
    assert all(verifies(sign(store, alg), cached) for alg in ALGORITHMS)


# -- refusal, --force, --if-due, prune timing -----------------------------------------


def test_rotate_refuses_a_next_key_published_for_less_than_the_cache_time(store: KeyStore):
    keyset = (store.folder / KEYSET_FILE).read_bytes()
    files = pem_files(store)
    with pytest.raises(KeyError_) as refused:
        store.rotate(max_age=MAX_AGE, now=at(MAX_AGE - 1))
    message = str(refused.value)
    assert "299 s" in message and "300 s" in message and "--force" in message and "\n" not in message
    assert (store.folder / KEYSET_FILE).read_bytes() == keyset and pem_files(store) == files

    store.rotate(max_age=MAX_AGE, force=True, now=at(MAX_AGE - 1))
    assert all("retiring" in by_state(store, alg) for alg in ALGORITHMS)


def test_a_refusal_for_one_chain_changes_no_chain(store: KeyStore):
    store.rotate(("ES256",), max_age=MAX_AGE, now=at(MAX_AGE))  # ES256 now has a young next
    keyset = (store.folder / KEYSET_FILE).read_bytes()
    files = pem_files(store)
    with pytest.raises(KeyError_, match="ES256"):
        store.rotate(max_age=MAX_AGE, now=at(MAX_AGE + 10))
    assert (store.folder / KEYSET_FILE).read_bytes() == keyset and pem_files(store) == files


def test_due_algorithms_follow_the_age_of_the_active_key(store: KeyStore):
    day = 24 * 3600
    assert store.due_algorithms(0, now=at(1000 * day)) == ()  # 0: never
    assert store.due_algorithms(30, now=at(30 * day - 1)) == ()
    assert set(store.due_algorithms(30, now=at(30 * day))) == set(ALGORITHMS)
    store.rotate(("ES256",), max_age=MAX_AGE, now=at(30 * day))
    assert store.due_algorithms(30, now=at(30 * day)) == ("RS256",)


def test_prune_waits_for_the_longest_token_lifetime_plus_the_cache_time(store: KeyStore):
    store.rotate(max_age=MAX_AGE, now=at(MAX_AGE))
    assert store.prune(KEEP_FOR, now=at(MAX_AGE + KEEP_FOR - 1)) == []
    assert all("retiring" in by_state(store, alg) for alg in ALGORITHMS)
    retired = store.prune(KEEP_FOR, now=at(MAX_AGE + KEEP_FOR))
    assert sorted(r.alg for r in retired) == sorted(ALGORITHMS)
    assert store.prune(KEEP_FOR, now=at(MAX_AGE + 2 * KEEP_FOR)) == []  # retired stays retired
    assert_consistent(store)


# -- files on disk -------------------------------------------------------------------


def test_key_files_are_readable_by_the_owner_only(store: KeyStore):
    store.rotate(max_age=MAX_AGE, now=at(MAX_AGE))
    for path in [*store.folder.glob("*.pem"), store.folder / KEYSET_FILE]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_encrypted_keys_load_only_with_the_passphrase(tmp_path: Path):
    folder = tmp_path / "keys"
    store = KeyStore(folder, "correct horse")
    store.ensure(T0)
    store.rotate(max_age=MAX_AGE, now=at(MAX_AGE))  # new keys are encrypted too
    for path in folder.glob("*.pem"):
        assert b"ENCRYPTED PRIVATE KEY" in path.read_bytes()
    assert verifies(sign(store), store.current().jwks)
    assert verifies(sign(KeyStore(folder, "correct horse")), store.current().jwks)
    for passphrase in ("", "wrong"):
        with pytest.raises(KeyError_, match="passphrase"):
            KeyStore(folder, passphrase).current()


# -- a rotation cut short ----------------------------------------------------------------


def test_a_rotation_failing_before_keyset_json_leaves_the_old_key_set(store: KeyStore, monkeypatch):
    keyset = (store.folder / KEYSET_FILE).read_bytes()
    cached = store.current().jwks

    def crash(records: list[KeyRecord]) -> None:
        raise OSError("no space left on device")

    monkeypatch.setattr(store, "_save", crash)
    with pytest.raises(OSError):
        store.rotate(max_age=MAX_AGE, now=at(MAX_AGE))
    monkeypatch.undo()

    assert (store.folder / KEYSET_FILE).read_bytes() == keyset
    assert len(pem_files(store)) == 6  # two new PEMs nobody names
    assert_consistent(store)
    assert store.current().jwks == cached

    store.rotate(max_age=MAX_AGE, now=at(MAX_AGE))
    assert_consistent(store)
    assert pem_files(store) == {f"{r.kid}.pem" for r in store.records()}  # the strays are gone


KILLER = """
import os, signal, sys
from datetime import datetime
from pathlib import Path
import idp.keys

stage, folder, now = sys.argv[1], Path(sys.argv[2]), datetime.fromisoformat(sys.argv[3])
real_replace = os.replace

def die():
    os.kill(os.getpid(), signal.SIGKILL)

def replace(src, dst):
    if Path(dst).name == "keyset.json":
        if stage == "before-rename":
            die()
        real_replace(src, dst)
        if stage == "after-rename":
            die()
        return
    real_replace(src, dst)
    if stage == "after-new-pem" and Path(dst).suffix == ".pem":
        die()

os.replace = replace
idp.keys.KeyStore(folder).rotate(max_age=0, now=now)
"""


@pytest.mark.parametrize("stage", ["after-new-pem", "before-rename", "after-rename"])
def test_a_rotation_killed_half_way_leaves_a_consistent_key_set(store: KeyStore, stage: str):
    before = store.records()
    token = sign(store)
    args = [sys.executable, "-c", textwrap.dedent(KILLER), stage, str(store.folder), at(MAX_AGE).isoformat()]
    proc = subprocess.run(args, capture_output=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()

    after = store.records()
    assert after == before if stage != "after-rename" else after != before
    assert_consistent(store)
    assert verifies(token, store.current().jwks)  # a token issued before still verifies
    store.rotate(max_age=MAX_AGE, force=True, now=at(2 * MAX_AGE))  # and the folder works on
    assert_consistent(store)
    assert not list(store.folder.glob(".tmp-*"))


# -- several processes on one folder ---------------------------------------------------


def test_another_worker_picks_up_a_rotation_without_restart(store: KeyStore):
    worker = KeyStore(store.folder)  # another gunicorn worker, or another node
    old = worker.current().signing_key("ES256").kid
    token = sign(worker)
    store.rotate(max_age=MAX_AGE, now=at(MAX_AGE))
    new = kid_of(store, "ES256", "active")
    assert new != old
    assert worker.current().signing_key("ES256").kid == new
    assert published_kids(worker) == published_kids(store)
    assert verifies(token, worker.current().jwks)


def test_an_unchanged_key_set_is_not_parsed_again(store: KeyStore):
    assert store.current() is store.current()


# -- the provider's own schedule ---------------------------------------------------


def scheduled(tmp_path: Path, **policy: int) -> tuple[KeyStore, RotationPolicy]:
    """A key folder made now by the test clock, checked at every signature."""
    store = KeyStore(tmp_path / "keys")
    store.ensure(clock.now())
    store.check_every = 0
    values = {"rotate_after_days": 1, "max_age": MAX_AGE, "keep_for": KEEP_FOR, **policy}
    return store, RotationPolicy(**values)


def test_the_provider_rotates_and_prunes_by_itself(tmp_path: Path, caplog):
    store, policy = scheduled(tmp_path)
    first = {alg: kid_of(store, alg, "next") for alg in ALGORITHMS}
    store.rotate_if_due(policy)
    assert "retiring" not in by_state(store, "ES256")  # not due yet

    clock.advance(timedelta(days=1))
    with caplog.at_level(logging.INFO, logger="idp.audit"):
        store.rotate_if_due(policy)
    assert {alg: kid_of(store, alg, "active") for alg in ALGORITHMS} == first
    assert "keys.rotated automatically alg=ES256" in caplog.text

    clock.advance(timedelta(seconds=KEEP_FOR - 5))  # times are kept to the second
    store.rotate_if_due(policy)
    assert all("retiring" in by_state(store, alg) for alg in ALGORITHMS)
    clock.advance(timedelta(seconds=5))
    with caplog.at_level(logging.INFO, logger="idp.audit"):
        store.rotate_if_due(policy)
    assert all("retiring" not in by_state(store, alg) for alg in ALGORITHMS)
    assert all("retired" in by_state(store, alg) for alg in ALGORITHMS)
    assert "keys.retired automatically" in caplog.text
    assert_consistent(store)


def test_the_provider_waits_until_next_has_been_published_for_the_cache_time(tmp_path: Path):
    store, policy = scheduled(tmp_path, max_age=2 * 24 * 3600)
    clock.advance(timedelta(days=1))  # due, but next is only a day old
    store.rotate_if_due(policy)
    assert "retiring" not in by_state(store, "ES256")
    clock.advance(timedelta(days=1))
    store.rotate_if_due(policy)
    assert "retiring" in by_state(store, "ES256")


def test_zero_days_means_never(tmp_path: Path):
    store, policy = scheduled(tmp_path, rotate_after_days=0)
    clock.advance(timedelta(days=1000))
    store.rotate_if_due(policy)
    assert "retiring" not in by_state(store, "ES256")


def test_the_schedule_is_looked_at_once_per_interval_and_not_on_every_signature(tmp_path: Path, monkeypatch):
    store, policy = scheduled(tmp_path)
    store.check_every = KeyStore.CHECK_EVERY
    store.rotate_if_due(policy)  # the first look: nothing due
    clock.advance(timedelta(days=1))

    def no_io() -> list[KeyRecord]:
        raise AssertionError("the signing path read the key folder")

    monkeypatch.setattr(store, "records", no_io)
    for _ in range(1000):
        store.rotate_if_due(policy)
    monkeypatch.undo()
    assert "retiring" not in by_state(store, "ES256")

    store.schedule.next_at = 0.0  # a minute has passed
    store.rotate_if_due(policy)
    assert "retiring" in by_state(store, "ES256")


def test_only_one_process_rotates_and_nobody_waits_for_it(tmp_path: Path):
    store, policy = scheduled(tmp_path)
    clock.advance(timedelta(days=1))
    with open(store.folder / ".lock", "a") as other:  # another worker holds the folder
        fcntl.flock(other, fcntl.LOCK_EX)
        store.rotate_if_due(policy)  # returns at once
        fcntl.flock(other, fcntl.LOCK_UN)
    assert "retiring" not in by_state(store, "ES256")
    store.rotate_if_due(policy)
    assert "retiring" in by_state(store, "ES256")


def test_a_failed_scheduled_run_is_logged_and_signing_goes_on(tmp_path: Path, monkeypatch, caplog):
    store, policy = scheduled(tmp_path)
    clock.advance(timedelta(days=1))

    def crash(records: list[KeyRecord]) -> None:
        raise OSError("read-only file system")

    monkeypatch.setattr(store, "_save", crash)
    with caplog.at_level(logging.ERROR, logger="idp.audit"):
        store.rotate_if_due(policy)
    assert "keys.schedule failed" in caplog.text
    assert verifies(sign(store), store.current().jwks)


def test_keyset_json_names_states_only(store: KeyStore):
    data = json.loads((store.folder / KEYSET_FILE).read_text())
    assert {r["state"] for r in data["keys"]} == {"active", "next"}
    assert "BEGIN" not in json.dumps(data)  # private material lives in the PEMs only
