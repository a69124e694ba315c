"""The one base class of every hosted form: it reads form bodies only.

Flask-WTF also reads a JSON body as form data, where a field may then hold a
number, a list or an object that no field expects (a 500 at the first
``.strip()``). A browser posts only ``application/x-www-form-urlencoded`` or
``multipart/form-data``; any other body is refused with a 400 page before a
field sees it.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.exceptions import BadRequest

# Every form's answer to a missing or stale CSRF token.
PAGE_EXPIRED = _l("This page had expired. Please enter your details again.")

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class NotAForm(BadRequest):
    """A page's form was posted with a body that is not a form."""

    description = "the body of a form post must be a form"
    page_message = _l("This page accepts only what its own form sends. Please open the page again and use its form.")


def form_body() -> Any:
    """The posted form, or None for a post without a body (the form's own check
    then answers). Uploaded files are never read: no form takes one."""
    if request.mimetype and request.mimetype not in FORM_TYPES:
        raise NotAForm()
    return request.form or None


def init_app(app: Flask) -> None:
    """Every hosted page refuses a post whose body is not a form before its view
    runs, so a page reached in any state (or one without a form yet) answers the
    same 400. The protocol endpoints (blueprint ``oidc``) answer with the
    protocol's own errors instead."""

    @app.before_request
    def _form_posts_only() -> None:
        if request.method == "POST" and request.blueprint != "oidc":
            form_body()


class Form(FlaskForm):
    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form: Any, formdata: Any) -> Any:
            # Flask-WTF passes its own marker when the caller named no formdata:
            # then read the request, but only its form body.
            if formdata is not None and not hasattr(formdata, "getlist"):
                return form_body() if form.is_submitted() else None
            return formdata
