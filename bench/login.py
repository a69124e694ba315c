"""Full browser-style logins against our provider, as fast as they go.

One roundtrip is what a relying party and a person do together: the
authorization request (code flow, PKCE S256), the hosted login page, the
password form, the redirect back with a code, and the code exchange at the
token endpoint. Several processes run roundtrips in parallel; each keeps its
own cookie jar per roundtrip, like a new browser.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import requests

CLIENT_ID = "demo-rp"
CLIENT_SECRET = "demo-rp-secret"
REDIRECT_URI = "http://127.0.0.1:8080/callback"
EMAIL = "user@demo.example"
PASSWORD = "Demo-pass-2026"
MAX_HOPS = 10
TIMEOUT = 30


class LoginError(RuntimeError):
    pass


@dataclass(frozen=True)
class Endpoints:
    authorization: str
    token: str


@dataclass(frozen=True)
class Totals:
    roundtrips: int
    errors: int
    seconds: float
    first_error: str

    @property
    def per_second(self) -> float:
        return self.roundtrips / self.seconds


class FormParser(HTMLParser):
    """Collects each <form>'s action and its named inputs with their values."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({"action": a.get("action", ""),
                               "method": a.get("method", "get").lower(), "inputs": {}})
        elif tag == "input" and self.forms and a.get("name"):
            self.forms[-1]["inputs"][a["name"]] = a.get("value", "")


def password_form(html: str) -> dict:
    parser = FormParser()
    parser.feed(html)
    for form in parser.forms:
        if "password" in form["inputs"] and "email" in form["inputs"]:
            return form
    raise LoginError(f"no login form with email and password on the page: {html[:200]!r}")


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def authorization_url(endpoint: str, challenge: str, state: str, scope: str = "openid") -> str:
    params = {
        "response_type": "code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI,
        "scope": scope, "state": state, "nonce": secrets.token_urlsafe(16),
        "code_challenge": challenge, "code_challenge_method": "S256",
    }
    return f"{endpoint}?{urlencode(params)}"


def follow_to_callback(session: requests.Session, response: requests.Response) -> str:
    """Follow redirects until one points at the relying party; never fetch it."""
    for _ in range(MAX_HOPS):
        location = response.headers.get("Location")
        if response.status_code not in (301, 302, 303, 307, 308) or not location:
            raise LoginError(f"expected a redirect, got {response.status_code}: "
                             f"{response.text[:200]!r}")
        target = urljoin(response.url, location)
        if target.startswith(REDIRECT_URI):
            return target
        response = session.get(target, allow_redirects=False, timeout=TIMEOUT)
    raise LoginError(f"more than {MAX_HOPS} redirects after the password")


def code_from(callback: str, state: str) -> str:
    query = parse_qs(urlsplit(callback).query)
    if query.get("state") != [state]:
        raise LoginError(f"state lost on the way back: {callback}")
    if "code" not in query:
        raise LoginError(f"no code in the redirect: {callback}")
    return query["code"][0]


def roundtrip(endpoints: Endpoints, scope: str = "openid") -> dict:
    """One login from the authorization request to the tokens (the token response)."""
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(16)
    with requests.Session() as session:
        page = session.get(authorization_url(endpoints.authorization, challenge, state, scope),
                           timeout=TIMEOUT)
        if page.status_code != 200:
            raise LoginError(f"login page answered {page.status_code}: {page.text[:200]!r}")
        form = password_form(page.text)
        fields = {**form["inputs"], "email": EMAIL, "password": PASSWORD}
        posted = session.post(urljoin(page.url, form["action"] or page.url), data=fields,
                              allow_redirects=False, timeout=TIMEOUT)
        code = code_from(follow_to_callback(session, posted), state)
        token = session.post(endpoints.token, auth=(CLIENT_ID, CLIENT_SECRET), timeout=TIMEOUT,
                             data={"grant_type": "authorization_code", "code": code,
                                   "redirect_uri": REDIRECT_URI, "code_verifier": verifier})
    if token.status_code != 200 or "id_token" not in token.text:
        raise LoginError(f"token endpoint answered {token.status_code}: {token.text[:200]!r}")
    return token.json()


def worker(endpoints: Endpoints, seconds: float) -> tuple[int, int, str]:
    """Run roundtrips until time is up; a roundtrip started counts only if it ends."""
    done = errors = 0
    first_error = ""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            roundtrip(endpoints)
            done += 1
        except (LoginError, requests.RequestException) as exc:
            errors += 1
            first_error = first_error or f"{type(exc).__name__}: {exc}"
    return done, errors, first_error


def drive(endpoints: Endpoints, processes: int, seconds: float) -> Totals:
    start = time.monotonic()
    with ProcessPoolExecutor(max_workers=processes) as pool:
        futures = [pool.submit(worker, endpoints, seconds) for _ in range(processes)]
        results = [f.result() for f in futures]
    elapsed = time.monotonic() - start
    return Totals(
        roundtrips=sum(r[0] for r in results),
        errors=sum(r[1] for r in results),
        seconds=elapsed,
        first_error=next((r[2] for r in results if r[2]), ""),
    )
