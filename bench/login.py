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
import http.client
import json
import secrets
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import loadgen

CLIENT_ID = "demo-rp"
CLIENT_SECRET = "demo-rp-secret"
REDIRECT_URI = "http://127.0.0.1:8080/callback"
EMAIL = "user@demo.example"
PASSWORD = "Demo-pass-2026"
MAX_HOPS = 10
REDIRECTS = (301, 302, 303, 307, 308)
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
    client_cpu_seconds: float  # the load generator's own share of the cores

    @property
    def per_second(self) -> float:
        return self.roundtrips / self.seconds


@dataclass(frozen=True)
class Answer:
    url: str
    status: int
    headers: http.client.HTTPMessage
    text: str

    def json(self) -> dict:
        return json.loads(self.text)


class Browser:
    """One person's browser: its cookies, and a new connection per request (the
    provider's sync workers close each one after answering). Redirects are
    followed by the caller, who must stop at the relying party's."""

    def __init__(self) -> None:
        self.cookies: dict[str, str] = {}

    def get(self, url: str) -> Answer:
        return self.request("GET", url)

    def post(self, url: str, fields: dict[str, str], auth: tuple[str, str] | None = None) -> Answer:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if auth:
            headers["Authorization"] = loadgen.basic_auth(*auth)
        return self.request("POST", url, urlencode(fields), headers)

    def request(self, method: str, url: str, body: str | None = None,
                headers: dict[str, str] | None = None) -> Answer:
        parts = urlsplit(url)
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        connection = http.client.HTTPConnection(parts.netloc, timeout=TIMEOUT)
        try:
            connection.request(method, parts.path + (f"?{parts.query}" if parts.query else ""), body, headers)
            response = connection.getresponse()
            text = response.read().decode()
        finally:
            connection.close()
        self._keep_cookies(response.headers)
        return Answer(url, response.status, response.headers, text)

    def _keep_cookies(self, headers: http.client.HTTPMessage) -> None:
        # All cookies come from the one provider; path and expiry beyond a
        # deletion do not matter within one roundtrip.
        for line in headers.get_all("Set-Cookie") or ():
            name, _, rest = line.partition("=")
            value, _, attributes = rest.partition(";")
            if "max-age=0" in attributes.lower().replace(" ", "") or not value:
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value.strip()


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


def follow_to_callback(browser: Browser, response: Answer) -> str:
    """Follow redirects until one points at the relying party; never fetch it."""
    for _ in range(MAX_HOPS):
        location = response.headers.get("Location")
        if response.status not in REDIRECTS or not location:
            raise LoginError(f"expected a redirect, got {response.status}: {response.text[:200]!r}")
        target = urljoin(response.url, location)
        if target.startswith(REDIRECT_URI):
            return target
        response = browser.get(target)
    raise LoginError(f"more than {MAX_HOPS} redirects after the password")


def login_page(browser: Browser, url: str) -> Answer:
    """The authorization request and the redirects it takes to the login page."""
    page = browser.get(url)
    for _ in range(MAX_HOPS):
        if page.status not in REDIRECTS:
            break
        page = browser.get(urljoin(page.url, page.headers["Location"]))
    if page.status != 200:
        raise LoginError(f"login page answered {page.status}: {page.text[:200]!r}")
    return page


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
    browser = Browser()
    page = login_page(browser, authorization_url(endpoints.authorization, challenge, state, scope))
    form = password_form(page.text)
    fields = {**form["inputs"], "email": EMAIL, "password": PASSWORD}
    posted = browser.post(urljoin(page.url, form["action"] or page.url), fields)
    code = code_from(follow_to_callback(browser, posted), state)
    token = Browser().post(endpoints.token, {"grant_type": "authorization_code", "code": code,
                                             "redirect_uri": REDIRECT_URI, "code_verifier": verifier},
                           auth=(CLIENT_ID, CLIENT_SECRET))
    if token.status != 200 or "id_token" not in token.text:
        raise LoginError(f"token endpoint answered {token.status}: {token.text[:200]!r}")
    return token.json()


def refresh(endpoints: Endpoints, token: str) -> dict:
    """One refresh of ``token`` (which rotates it): the token response."""
    answer = Browser().post(endpoints.token, {"grant_type": "refresh_token", "refresh_token": token},
                            auth=(CLIENT_ID, CLIENT_SECRET))
    if answer.status != 200:
        raise LoginError(f"refresh answered {answer.status}: {answer.text[:200]!r}")
    return answer.json()


def worker(endpoints: Endpoints, seconds: float) -> tuple[int, int, str, float]:
    """Run roundtrips until time is up; a roundtrip started counts only if it ends."""
    done = errors = 0
    first_error = ""
    cpu = time.process_time()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            roundtrip(endpoints)
            done += 1
        except (LoginError, OSError, http.client.HTTPException) as exc:
            errors += 1
            first_error = first_error or f"{type(exc).__name__}: {exc}"
    return done, errors, first_error, time.process_time() - cpu


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
        client_cpu_seconds=sum(r[3] for r in results),
    )
