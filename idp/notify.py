"""Sending mail and SMS, now or after the response.

Mail that an unauthenticated page triggers (lock notice, password reset) is
sent after the response has gone out, so that neither the page nor its
timing tells whether the account exists; a failure is logged and the person
can ask again. Messages a signed-in step depends on (SMS codes) are sent at
once, and a failure is shown.
"""

from __future__ import annotations

import logging

from flask import after_this_request, current_app, has_request_context
from werkzeug.wrappers import Response

from .mail import Mail, TransportError
from .sms import Sms

log = logging.getLogger("idp.notify")


def send_sms_now(sms: Sms) -> None:
    current_app.extensions["idp.sms"].send(sms)


def send_mail_after_response(mail: Mail) -> None:
    """After the response; a command (no request, no response to wait for) sends at once."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def deliver() -> None:
        with app.app_context():
            try:
                app.extensions["idp.mail"].send(mail)
            except TransportError as e:
                log.error("mail to %s not sent: %s", mail.to, e)

    if not has_request_context():
        deliver()
        return

    @after_this_request
    def _schedule(response: Response) -> Response:
        response.call_on_close(deliver)
        return response
