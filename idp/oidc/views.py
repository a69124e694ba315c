"""Protocol endpoints. Thin: each hands the request to the authorization server."""

from __future__ import annotations

import json

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import InvalidRequestError
from flask import Blueprint, current_app, render_template, request
from werkzeug.wrappers import Response

from ..auth.forms import LogoutForm
from . import authorize as authorize_endpoint
from .endpoints import userinfo_claims

bp = Blueprint("oidc", __name__)

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _server():  # type: ignore[no-untyped-def]
    return current_app.extensions["idp.server"]


DISCOVERY_PATHS = ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server")
DISCOVERY_CACHE = "public, max-age=3600"
JWKS_TYPE = "application/jwk-set+json"


def jwks_cache_control(max_age: int) -> str:
    return f"public, max-age={max_age}"


@bp.route(DISCOVERY_PATHS[0])
@bp.route(DISCOVERY_PATHS[1])
def discovery() -> Response:
    body = current_app.extensions["idp.discovery"]
    return Response(body, content_type="application/json", headers={"Cache-Control": DISCOVERY_CACHE})


@bp.route("/jwks")
def jwks() -> Response:
    settings = current_app.extensions["idp.settings"]
    body = current_app.extensions["idp.keys"].current().jwks_body
    return Response(body, content_type=JWKS_TYPE, headers={"Cache-Control": jwks_cache_control(settings.jwks_max_age)})


@bp.route("/authorize", methods=["GET", "POST"])
def authorize() -> Response:
    return authorize_endpoint.authorize()


def _repeated_parameter() -> str | None:
    """RFC 6749 §3.2: parameters MUST NOT be included more than once."""
    for name, values in request.form.lists():
        if len(values) > 1:
            return name
    return None


@bp.route("/token", methods=["POST"])
def token() -> Response:
    if name := _repeated_parameter():
        error = InvalidRequestError(f"'{name}' is included more than once")
        return _server().handle_error_response(None, error)
    return _server().create_token_response()


@bp.route("/revoke", methods=["POST"])
def revoke() -> Response:
    return _server().create_endpoint_response("revocation")


@bp.route("/introspect", methods=["POST"])
def introspect() -> Response:
    return _server().create_endpoint_response("introspection")


@bp.route("/userinfo", methods=["GET", "POST"])
def userinfo() -> Response:
    """OIDC Core §5.3; the token comes in the Authorization header (RFC 6750 §2.1)
    or, for POST, in the form body (§2.2)."""
    auth = request.headers.get("Authorization", "")
    bearer = auth[7:].strip() if auth[:7].lower() == "bearer " else None
    if bearer is None and request.method == "POST" and not auth:
        bearer = request.form.get("access_token")
    try:
        claims = userinfo_claims(bearer)
    except OAuth2Error as error:
        challenge = f'Bearer error="{error.error}"'
        if bearer is None:
            challenge = 'Bearer realm="userinfo"'
        body = json.dumps({"error": error.error, "error_description": error.description})
        headers = {"WWW-Authenticate": challenge, **NO_STORE}
        return Response(body, status=401, content_type="application/json", headers=headers)
    return Response(json.dumps(claims), content_type="application/json", headers=NO_STORE)


@bp.route("/logout", methods=["GET", "POST"])
def end_session() -> Response | str:
    """OIDC RP-Initiated Logout 1.0: redirect only to a registered post-logout URI;
    without a valid id_token_hint the person confirms first (§6)."""
    server = _server()
    try:
        req = server.validate_endpoint_request("end_session")
    except OAuth2Error as error:
        return authorize_endpoint.error_response(error)
    form = LogoutForm()
    if req.needs_confirmation and not form.validate_on_submit():
        params = {k: v for k, v in request.values.items() if k != "csrf_token"}
        return render_template("auth/logout_confirm.html", form=form, params=params)
    return server.create_endpoint_response("end_session", req) or render_template("auth/logged_out.html")
