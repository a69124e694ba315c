"""Sending mail and SMS, now or after the response.

Mail that an unauthenticated page triggers (lock notice, password reset) is
sent after the response has gone out, so that neither the page nor its
timing tells whether the account exists; a failure is logged and the person
can ask again. Messages a signed-in step depends on (SMS codes) are sent at
once, and a failure is shown. A command (no request, no response) sends its
mail once its transaction commits, and none if it does not.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import after_this_request, current_app, has_request_context
from sqlalchemy import event
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from . import db
from .mail import Mail, TransportError
from .sms import Sms

log = logging.getLogger("idp.notify")


def send_sms_now(sms: Sms) -> None:
    current_app.extensions["idp.sms"].send(sms)


def send_mail_after_response(mail: Mail) -> None:
    """After the response; outside a request (a command), once its transaction commits."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def deliver() -> None:
        with app.app_context():
            try:
                app.extensions["idp.mail"].send(mail)
            except TransportError as e:
                log.error("mail to %s not sent: %s", mail.to, e)

    if not has_request_context():
        _after_commit(deliver)
        return

    @after_this_request
    def _schedule(response: Response) -> Response:
        response.call_on_close(deliver)
        return response


_WAITING = "idp.notify.after_commit"


def _after_commit(deliver: Callable[[], None]) -> None:
    """Run ``deliver`` when the current transaction commits; forget it on rollback."""
    session = db.session()
    if _WAITING not in session.info:
        session.info[_WAITING] = []
        event.listen(session, "after_commit", _deliver_waiting)
        event.listen(session, "after_rollback", _forget_waiting)
    session.info[_WAITING].append(deliver)


def _deliver_waiting(session: Session) -> None:
    waiting, session.info[_WAITING] = session.info[_WAITING], []
    for deliver in waiting:
        deliver()


def _forget_waiting(session: Session) -> None:
    session.info[_WAITING] = []
