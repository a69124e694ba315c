"""Sending mail and SMS, now or after the response; work done after the response.

Work that an unauthenticated page triggers (a reset request, a lock notice)
runs after the response has gone out, so that neither the page nor its timing
tells whether the account exists; a failure is logged and the person can ask
again. Messages a signed-in step depends on (SMS codes) are sent at once, and
a failure is shown. A command (no request, no response) sends its mail once
its transaction commits, and none if it does not.

``after_response`` is the one way to defer: each piece of work runs in a fresh
application context of the same request (its address, host and language, a
database session of its own) and in its own transaction, committed when it
returns. Work deferred from deferred work runs after that work committed, so a
mail never announces a link that is not stored yet.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import after_this_request, copy_current_request_context, current_app, g, has_request_context
from sqlalchemy import event
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from . import db
from .mail import Mail, TransportError
from .sms import Sms

log = logging.getLogger("idp.notify")

Work = Callable[[], None]


def after_response(work: Work) -> None:
    """Run ``work`` once the response has been handed back, in its own transaction.

    Nothing runs if the response is a server error: the request's own
    transaction, which the work may build on, did not commit. Outside a
    request (a command), there is no response to wait for: it runs once the
    command's transaction commits, and not at all if it rolls back."""
    if not has_request_context():
        _after_commit(work)
        return
    queue: list[Work] | None = g.get("idp_after_response")
    if queue is not None:
        queue.append(work)
        return
    queue = g.idp_after_response = [work]

    @copy_current_request_context
    def run() -> None:
        _run(queue)

    @after_this_request
    def _schedule(response: Response) -> Response:
        if response.status_code < 500:
            response.call_on_close(run)
        return response


def _run(queue: list[Work]) -> None:
    """In the copied request context: each piece of work, then its commit; work
    queued meanwhile joins the end of the queue."""
    g.idp_after_response = queue
    session = db.session()
    while queue:
        work = queue.pop(0)
        try:
            work()
            session.commit()
        except Exception:
            session.rollback()
            log.exception("work after the response failed")


_WAITING = "idp.notify.after_commit"


def _after_commit(work: Work) -> None:
    session = db.session()
    if _WAITING not in session.info:
        session.info[_WAITING] = []
        event.listen(session, "after_commit", _run_waiting)
        event.listen(session, "after_rollback", _forget_waiting)
    session.info[_WAITING].append(work)


def _run_waiting(session: Session) -> None:
    waiting, session.info[_WAITING] = session.info[_WAITING], []
    for work in waiting:
        work()


def _forget_waiting(session: Session) -> None:
    session.info[_WAITING] = []


def send_sms_now(sms: Sms) -> None:
    current_app.extensions["idp.sms"].send(sms)


def send_mail_after_response(mail: Mail) -> None:
    def deliver() -> None:
        try:
            current_app.extensions["idp.mail"].send(mail)
        except TransportError as e:
            log.error("mail to %s not sent: %s", mail.to, e)

    after_response(deliver)


def send_sms_after_response(sms: Sms) -> None:
    """For notices (not codes): a failing gateway is logged, the page is unaffected."""

    def deliver() -> None:
        try:
            send_sms_now(sms)
        except TransportError as e:
            log.error("SMS not sent: %s", e)

    after_response(deliver)
