"""The login round trip inside one process (Flask's test client, no sockets),
against the database the bench prepared: SQL statements per round trip
(`login_queries`, counted with a SQLAlchemy event) and, with --profile, a
cProfile of many round trips (bench/README.md shows its top).

    .venv/bin/python bench/inprocess.py [--profile N]   # after `idp db upgrade` and `idp demo`
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import secrets
import statistics
from urllib.parse import urljoin, urlsplit

import loadgen
import login
from sqlalchemy import event

HOPS = 10


def roundtrip(app, issuer: str) -> None:  # type: ignore[no-untyped-def]
    """authorize -> login page -> password -> code -> token, as bench/login.py does over HTTP."""
    client = app.test_client()
    verifier, challenge = login.pkce_pair()
    state = secrets.token_urlsafe(16)
    url = login.authorization_url(issuer + "/authorize", challenge, state)
    page = client.get(url)
    while page.status_code in (302, 303):
        url = urljoin(url, page.headers["Location"])
        page = client.get(url)
    if page.status_code != 200:
        raise login.LoginError(f"login page answered {page.status_code}")
    form = login.password_form(page.get_data(as_text=True))
    fields = {**form["inputs"], "email": login.EMAIL, "password": login.PASSWORD}
    answer = client.post(urljoin(url, form["action"] or url), data=fields)
    for _ in range(HOPS):
        target = urljoin(url, answer.headers.get("Location", ""))
        if target.startswith(login.REDIRECT_URI):
            break
        url, answer = target, client.get(target)
    else:
        raise login.LoginError("no redirect back to the relying party")
    code = login.code_from(target, state)
    token = client.post(
        urlsplit(issuer + "/token").path,
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": login.REDIRECT_URI,
              "code_verifier": verifier},
        headers={"Authorization": loadgen.basic_auth(login.CLIENT_ID, login.CLIENT_SECRET)},
    )
    if token.status_code != 200:
        raise login.LoginError(f"token endpoint answered {token.status_code}: {token.get_data()[:200]!r}")


def counted(app, issuer: str, rounds: int = 5) -> int:  # type: ignore[no-untyped-def]
    """The median number of SQL statements one round trip runs (after one to warm up)."""
    engine = app.extensions["idp.engine"]
    seen: list[int] = [0]

    def count(*_: object) -> None:
        seen[0] += 1

    roundtrip(app, issuer)
    event.listen(engine, "before_cursor_execute", count)
    per_round = []
    try:
        for _ in range(rounds):
            seen[0] = 0
            roundtrip(app, issuer)
            per_round.append(seen[0])
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return int(statistics.median(per_round))


def profile(app, issuer: str, rounds: int, top: int = 25) -> str:  # type: ignore[no-untyped-def]
    roundtrip(app, issuer)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(rounds):
        roundtrip(app, issuer)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def app_for(env: dict[str, str]) -> tuple[object, str]:
    from idp import create_app
    from idp.config import load_settings

    settings = load_settings(env)
    return create_app(settings), settings.issuer


def main() -> None:
    import os

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", type=int, default=0, help="profile this many round trips")
    args = parser.parse_args()
    app, issuer = app_for(dict(os.environ))
    print(f"login_queries: {counted(app, issuer)}")
    if args.profile:
        print(profile(app, issuer, args.profile))


if __name__ == "__main__":
    main()
