"""The authorization endpoint (OIDC Core §3.1.2) as an ordered list of small checks.

authlib validates the client, the redirect URI, the response type, the scope,
PKCE and the prompt; the checks here add what it leaves to the application.
Errors go back to the client only once its redirect URI is known to be
registered (RFC 6749 §4.1.2.1); before that, the person sees a page.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from authlib.common.urls import add_params_to_uri
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import InvalidRequestError, OAuth2Request
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oidc.core.errors import LoginRequiredError
from flask import current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from .. import clock
from ..auth import interactions, sessions
from ..auth.proof import Proof
from ..tenants import admission
from .server import has_repeated_parameter


class RequestNotSupported(OAuth2Error):
    error = "request_not_supported"


class RequestUriNotSupported(OAuth2Error):
    error = "request_uri_not_supported"


def _server():  # type: ignore[no-untyped-def]
    return current_app.extensions["idp.server"]


def _issuer() -> str:
    return current_app.extensions["idp.settings"].issuer


def no_repeated_parameters(params: dict[str, str], proof: Proof | None, started: float) -> None:
    """authlib checks five parameters for repeats; a repeated nonce or
    code_challenge matters as much. A request resumed after sign-in was checked
    when it arrived; it is kept as a dict and cannot repeat anything."""
    if request.endpoint == "oidc.authorize" and has_repeated_parameter():
        raise InvalidRequestError("a parameter is included more than once")


def no_request_object(params: dict[str, str], proof: Proof | None, started: float) -> None:
    """OIDC Core §6: we do not support request objects, and say so (not ignore them)."""
    if "request" in params:
        raise RequestNotSupported("request objects are not supported")
    if "request_uri" in params:
        raise RequestUriNotSupported("request_uri is not supported")


# ASCII digits only: str.isdigit() also admits "²" and "٣", which int() refuses or reads.
MAX_AGE = re.compile(r"[0-9]{1,10}")


def valid_max_age(params: dict[str, str], proof: Proof | None, started: float) -> None:
    """OIDC Core §3.1.2.1: max_age is a non-negative integer number of seconds."""
    value = params.get("max_age")
    if value is not None and not MAX_AGE.fullmatch(value):
        raise InvalidRequestError("max_age must be a non-negative integer")


def prompt_none_needs_fresh_session(params: dict[str, str], proof: Proof | None, started: float) -> None:
    if "none" in params.get("prompt", "").split() and needs_login(params, proof, started):
        raise LoginRequiredError()


CHECKS: list[Callable[[dict[str, str], Proof | None, float], None]] = [
    no_repeated_parameters,
    no_request_object,
    valid_max_age,
    prompt_none_needs_fresh_session,
]


def needs_login(params: dict[str, str], proof: Proof | None, started: float) -> bool:
    """Sign-in is needed without a session, for ``prompt=login`` or
    ``select_account``, when the last sign-in is older than ``max_age``, or when
    ``id_token_hint`` names someone else (OIDC Core §3.1.2.1) — unless it
    happened after this request began, which is how a request resumed after
    the login page is satisfied."""
    if proof is None:
        return True
    if proof.auth_time.timestamp() >= started:
        return False
    prompts = params.get("prompt", "").split()
    if "login" in prompts or "select_account" in prompts or hint_names_someone_else(params, proof):
        return True
    max_age = params.get("max_age")
    return max_age is not None and clock.now().timestamp() - proof.auth_time.timestamp() > int(max_age)


def hint_names_someone_else(params: dict[str, str], proof: Proof) -> bool:
    hint = params.get("id_token_hint")
    if not hint:
        return False
    claims = current_app.extensions["idp.tokens"].verify_signature(hint) if len(hint) < 8192 else None
    return claims is None or claims.get("sub") != proof.user.subject


def authorize() -> Response:
    params = request.values.to_dict()
    ix = params.pop("interaction", None)
    pending = interactions.get(ix)
    started = pending["started"] if pending and pending["args"] == params else clock.now().timestamp() + 1
    return _answer(params, ix, started, None)


def resume(ix: str | None) -> Response | None:
    """The authorization request that waited for this sign-in, answered in the
    response that completes it (a code on its way to the client), rather than
    by one more redirect through the browser to this endpoint. The same checks
    run, on the request as it arrived; None when no request is waiting."""
    pending = interactions.get(ix)
    if pending is None:
        return None
    params = dict(pending["args"])
    waiting = OAuth2Request("GET", url_for("oidc.authorize", _external=True))
    waiting.payload = BasicOAuth2Payload(params)
    return _answer(params, ix, pending["started"], waiting)


def _answer(params: dict[str, str], ix: str | None, started: float, waiting: OAuth2Request | None) -> Response:
    proof = sessions.current()
    if proof is not None and not admission.admits(proof.user, proof.line_id):
        proof = None  # the tenant's standing or line policy no longer admits this session
    server = _server()
    try:
        grant = server.get_consent_grant(waiting, end_user=proof)
    except OAuth2Error as error:
        return error_response(error)
    try:
        for check in CHECKS:
            check(params, proof, started)
    except OAuth2Error as error:
        error.redirect_uri = grant.redirect_uri or params.get("redirect_uri")
        error.state = params.get("state")
        return error_response(error)
    if needs_login(params, proof, started):
        return redirect(url_for("auth.login", interaction=interactions.begin(params), **_ui_locale(params)))
    if ix:
        interactions.finish(ix)
    return server.create_authorization_response(grant=grant, grant_user=proof)


def _ui_locale(params: dict[str, str]) -> dict[str, str]:
    """OIDC Core §3.1.2.1 ui_locales: the first one we speak."""
    for tag in params.get("ui_locales", "").split():
        if (lang := tag.split("-")[0].lower()) in ("ja", "en"):
            return {"lang": lang}
    return {}


def error_response(error: OAuth2Error) -> Response:
    """A redirect to the client's registered URI with ``error`` and ``iss``, or a page."""
    if error.redirect_uri:
        params = [("error", error.error)]
        if error.description:
            params.append(("error_description", error.description))
        if error.state:
            params.append(("state", error.state))
        params.append(("iss", _issuer()))
        return redirect(add_params_to_uri(error.redirect_uri, params))
    body = render_template("errors/oauth.html", error=error.error, description=error.description)
    return Response(body, status=400, content_type="text/html; charset=utf-8")
