"""Real receivers for what the provider sends: an SMTP server (aiosmtpd) and an
HTTP SMS gateway, both on loopback. Tests read codes and links from what arrived."""

from __future__ import annotations

import email
import email.policy
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from .services import free_port


@dataclass
class Received:
    to: str
    subject: str
    body: str


@dataclass
class Inbox:
    """Messages that arrived, with a wait for the next one (mail may follow the response)."""

    items: list[Any] = field(default_factory=list)
    cond: threading.Condition = field(default_factory=threading.Condition)

    def add(self, item: Any) -> None:
        with self.cond:
            self.items.append(item)
            self.cond.notify_all()

    def clear(self) -> None:
        with self.cond:
            self.items.clear()

    def wait_for(self, to: str, timeout: float = 10.0, after: int = 0) -> Any:
        """The first message to ``to`` beyond the first ``after`` ones."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                matching = [m for m in self.items if m.to == to]
                if len(matching) > after:
                    return matching[after]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"nothing arrived for {to} in {timeout} s")
                self.cond.wait(remaining)

    def count(self, to: str) -> int:
        with self.cond:
            return sum(1 for m in self.items if m.to == to)


class _SmtpHandler:
    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd API)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        for rcpt in envelope.rcpt_tos:
            self.inbox.add(Received(to=rcpt, subject=str(message["Subject"]), body=body.get_content() if body else ""))
        return "250 OK"


class MailServer:
    def __init__(self) -> None:
        self.inbox = Inbox()
        self.port = free_port()  # aiosmtpd's Controller cannot take port 0
        self.controller = Controller(_SmtpHandler(self.inbox), hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> MailServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


class SmsGateway:
    """Accepts POST JSON {"to", "body"}; ``failing = True`` makes it answer 503."""

    def __init__(self) -> None:
        self.inbox = Inbox()
        self.failing = False
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server API)
                length = int(self.headers.get("Content-Length") or 0)
                data = json.loads(self.rfile.read(length) or b"{}")
                if gateway.failing:
                    self.send_response(503)
                else:
                    gateway.inbox.add(Received(to=data["to"], subject="", body=data["body"]))
                    self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/sms"

    def start(self) -> SmsGateway:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()


def code_in(text: str) -> str:
    match = re.search(r"\b(\d{6})\b", text)
    assert match, f"no 6-digit code in {text!r}"
    return match.group(1)


def link_in(text: str, base: str) -> str:
    links = re.findall(re.escape(base) + r"\S+", text)
    assert len(links) == 1, f"expected exactly one link on {base} in the mail, found {links}"
    return links[0]
