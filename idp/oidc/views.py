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


@bp.route("/token", methods=["POST"])
def token() -> Response:
    return _server().create_token_response()


@bp.route("/revoke", methods=["POST"])
def revoke() -> Response:
    return _server().create_endpoint_response("revocation")


@bp.route("/introspect", methods=["POST"])
def introspect() -> Response:
    return _server().create_endpoint_response("introspection")


def _bearer_token() -> str | None:
    """RFC 6750 §2: the token in the Authorization header, or for POST in the
    form body; a client uses one method only."""
    auth = request.headers.get("Authorization", "")
    in_header = auth[7:].strip() if auth[:7].lower() == "bearer " else None
    in_body = request.form.get("access_token") if request.method == "POST" else None
    if in_body is not None and auth:
        raise InvalidRequestError("send the access token in one place only")
    return in_header if in_header is not None else in_body


@bp.route("/userinfo", methods=["GET", "POST"])
def userinfo() -> Response:
    """OIDC Core §5.3, errors per RFC 6750 §3."""
    bearer = None
    try:
        bearer = _bearer_token()
        claims = userinfo_claims(bearer)
    except OAuth2Error as error:
        # §3.1: a request without a token gets a challenge without an error code.
        challenge = (
            'Bearer realm="userinfo"'
            if bearer is None and error.error == "invalid_token"
            else (f'Bearer error="{error.error}"')
        )
        status = 400 if error.error == "invalid_request" else 401
        body = json.dumps({"error": error.error, "error_description": error.description})
        headers = {"WWW-Authenticate": challenge, **NO_STORE}
        return Response(body, status=status, content_type="application/json", headers=headers)
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
