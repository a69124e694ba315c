"""A Facebook-like upstream: Facebook Login's OAuth 2.0 dialog and token
endpoint, and the Graph API's /me with ``appsecret_proof``, on a loopback port.

Paths take an optional version prefix as Facebook's do (/v19.0/dialog/oauth).
Errors are Graph's: HTTP 400 with {"error": {"message", "type", "code",
"fbtrace_id"}}; a denied dialog returns error=access_denied to the app.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import re
import secrets
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from .oidc import Client

VERSION = re.compile(r"^/v\d+\.\d+(?=/)")
TOKEN_LIFETIME = 5183944  # what Graph reports for a long-lived user token, in seconds
FIELDS = ("id", "name", "email")


@dataclass(frozen=True)
class FacebookAccount:
    id: str  # the app-scoped user id
    name: str
    email: str | None  # Facebook has accounts without an email address


@dataclass
class _Pending:
    app_id: str
    redirect_uri: str
    state: str | None


class GraphError(Exception):
    def __init__(self, message: str, type_: str = "OAuthException", code: int = 100) -> None:
        super().__init__(message)
        self.body = {"error": {"message": message, "type": type_, "code": code, "fbtrace_id": secrets.token_hex(8)}}


def appsecret_proof(access_token: str, app_secret: str) -> str:
    """Graph API: HMAC-SHA256 of the access token keyed with the app secret, in hex."""
    return hmac.new(app_secret.encode(), access_token.encode(), hashlib.sha256).hexdigest()


class FacebookUpstream:
    """The server and what it knows: apps, accounts, pending dialogs, codes, tokens."""

    def __init__(self, port: int = 0) -> None:
        self.apps: dict[str, Client] = {}
        self.accounts: dict[str, FacebookAccount] = {}
        self._pending: dict[str, _Pending] = {}
        self._codes: dict[str, tuple[str, str, str]] = {}  # code -> app id, redirect URI, account id
        self._tokens: dict[str, tuple[str, str]] = {}  # access token -> app id, account id
        self._lock = threading.Lock()
        self._server = make_server("127.0.0.1", port, self._wsgi, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.base_url = f"http://127.0.0.1:{self._server.server_port}"

    @property
    def authorize_url(self) -> str:
        return self.base_url + "/v19.0/dialog/oauth"

    @property
    def token_url(self) -> str:
        return self.base_url + "/v19.0/oauth/access_token"

    @property
    def graph_url(self) -> str:
        return self.base_url + "/v19.0"

    def start(self) -> FacebookUpstream:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(5)

    def register_app(self, redirect_uri: str, *, app_id: str | None = None, app_secret: str | None = None) -> Client:
        app_id = app_id or str(10**14 + secrets.randbelow(9 * 10**14))
        app = Client(app_id, app_secret or secrets.token_hex(16), redirect_uri)
        self.apps[app.client_id] = app
        return app

    def add_account(self, email: str | None, *, id: str | None = None, name: str | None = None) -> FacebookAccount:
        account = FacebookAccount(
            id or str(10**15 + secrets.randbelow(9 * 10**15)), name or (email or "Facebook User").split("@")[0], email
        )
        self.accounts[account.id] = account
        return account

    # -- HTTP ---------------------------------------------------------------

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        path = VERSION.sub("", request.path)
        try:
            response = self._route(request, path)
        except GraphError as err:
            response = Response(json.dumps(err.body), 400, content_type="application/json")
        response.headers["Connection"] = "close"
        return response(environ, start_response)

    def _route(self, request: Request, path: str) -> Response:
        if path == "/dialog/oauth" and request.method == "GET":
            return self._dialog(request)
        if match := re.fullmatch(r"/dialog/oauth/([\w-]+)/(login|deny)", path):
            return self._decide(request, match.group(1), match.group(2))
        if path == "/oauth/access_token":
            return self._access_token(request)
        if path == "/me" and request.method == "GET":
            return self._me(request)
        raise GraphError(f"Unknown path components: {path}", code=2500)

    def _dialog(self, request: Request) -> Response:
        app = self.apps.get(request.args.get("client_id", ""))
        redirect_uri = request.args.get("redirect_uri", "")
        if app is None:
            return _page("Invalid App ID", 400)
        if redirect_uri != app.redirect_uri:
            return _page("URL blocked: the redirect URI is not whitelisted in the app's Client OAuth Settings.", 400)
        uid = secrets.token_urlsafe(16)
        self._pending[uid] = _Pending(app.client_id, redirect_uri, request.args.get("state"))
        return _page(
            f'<form method="post" action="/dialog/oauth/{uid}/login">'
            '<label>Email or id <input name="login" autofocus></label>'
            '<button type="submit">Continue</button></form>'
            f'<form method="post" action="/dialog/oauth/{uid}/deny"><button type="submit">Cancel</button></form>'
        )

    def _decide(self, request: Request, uid: str, step: str) -> Response:
        with self._lock:
            pending = self._pending.pop(uid, None)
        if pending is None or request.method != "POST":
            return _page("This dialog has expired.", 400)
        if step == "deny":
            return _back(
                pending,
                error="access_denied",
                error_code="200",
                error_description="Permissions error",
                error_reason="user_denied",
            )
        login = request.form.get("login", "").strip()
        account = self.accounts.get(login) or next((a for a in self.accounts.values() if a.email == login), None)
        if account is None:
            with self._lock:
                self._pending[uid] = pending  # the person may try again
            return _page("The email or id you entered isn't connected to an account.", 400)
        code = secrets.token_urlsafe(32)
        self._codes[code] = (pending.app_id, pending.redirect_uri, account.id)
        return _back(pending, code=code)

    def _access_token(self, request: Request) -> Response:
        """Code for an access token; the code is single use, bound to its app and redirect URI."""
        params = request.values
        app = self.apps.get(params.get("client_id", ""))
        secret = params.get("client_secret", "")
        if app is None or not hmac.compare_digest(secret.encode(), app.client_secret.encode()):
            raise GraphError("Error validating client secret.", code=1)
        with self._lock:
            grant = self._codes.pop(params.get("code", ""), None)
        if grant is None:
            raise GraphError("This authorization code has been used.")
        app_id, redirect_uri, account_id = grant
        if app_id != app.client_id or redirect_uri != params.get("redirect_uri"):
            raise GraphError(
                "Error validating verification code. Please make sure your redirect_uri is identical to the one you "
                "used in the OAuth dialog request"
            )
        token = secrets.token_urlsafe(48)
        self._tokens[token] = (app_id, account_id)
        body = {"access_token": token, "token_type": "bearer", "expires_in": TOKEN_LIFETIME}
        return Response(json.dumps(body), content_type="application/json")

    def _me(self, request: Request) -> Response:
        token = request.args.get("access_token") or _bearer(request)
        if not token:
            message = "An active access token must be used to query information about the current user."
            raise GraphError(message, code=2500)
        found = self._tokens.get(token)
        if found is None:
            raise GraphError("Invalid OAuth access token - Cannot parse access token", code=190)
        app_id, account_id = found
        proof = request.args.get("appsecret_proof")
        if not proof:
            raise GraphError("API calls from the server require an appsecret_proof argument", "GraphMethodException")
        if not hmac.compare_digest(proof, appsecret_proof(token, self.apps[app_id].client_secret)):
            raise GraphError("Invalid appsecret_proof provided in the API argument", "GraphMethodException")
        return Response(json.dumps(self._fields(self.accounts[account_id], request)), content_type="application/json")

    @staticmethod
    def _fields(account: FacebookAccount, request: Request) -> dict[str, str]:
        wanted = [f for f in request.args.get("fields", "id,name").split(",") if f]
        for field in wanted:
            if field not in FIELDS:
                raise GraphError(f"(#100) Tried accessing nonexisting field ({field}) on node type (User)")
        values = {"id": account.id, "name": account.name, "email": account.email}
        return {f: values[f] for f in ["id", *wanted] if values[f] is not None}


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token if scheme.lower() in ("bearer", "oauth") and token else None


def _back(pending: _Pending, **params: str) -> Response:
    """Back to the app; Facebook appends the fragment #_=_ to this redirect."""
    if pending.state is not None:
        params["state"] = pending.state
    separator = "&" if "?" in pending.redirect_uri else "?"
    response = Response(status=302)
    response.headers["Location"] = f"{pending.redirect_uri}{separator}{urlencode(params)}#_=_"
    return response


def _page(body: str, status: int = 200) -> Response:
    if not body.startswith("<"):
        body = f'<p id="error">{html.escape(body)}</p>'
    page = f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>Facebook</title></head><body>{body}</body></html>'
    return Response(page, status, content_type="text/html; charset=utf-8")
