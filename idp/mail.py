"""Outgoing mail: SMTP when IDP_SMTP_URL is set, files in var/outbox/ otherwise."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from . import outbox


class TransportError(Exception):
    """The message could not be handed to the transport; nothing was sent."""


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


class MailSender(Protocol):
    def send(self, mail: Mail) -> None: ...


class SmtpSender:
    def __init__(self, url: str, sender: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 25
        self.sender = sender

    def send(self, mail: Mail) -> None:
        msg = EmailMessage()
        msg["From"] = formataddr(("ワークストレージ", self.sender))
        msg["To"] = mail.to
        msg["Subject"] = mail.subject
        msg["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        msg.set_content(mail.body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=10) as smtp:
                smtp.send_message(msg)
        except (OSError, smtplib.SMTPException) as e:
            raise TransportError(f"SMTP {self.host}:{self.port}: {e}") from e


class OutboxSender:
    def __init__(self, folder: Path, sender: str) -> None:
        self.folder, self.sender = folder, sender

    def send(self, mail: Mail) -> None:
        outbox.write(
            self.folder, "mail", {"from": self.sender, "to": mail.to, "subject": mail.subject, "body": mail.body}
        )


def sender_for(smtp_url: str, mail_from: str, var_dir: Path) -> MailSender:
    return SmtpSender(smtp_url, mail_from) if smtp_url else OutboxSender(var_dir / "outbox", mail_from)
