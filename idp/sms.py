"""Outgoing SMS: POST JSON {"to", "body"} to IDP_SMS_WEBHOOK_URL, or var/outbox/."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from . import outbox
from .mail import TransportError


@dataclass(frozen=True)
class Sms:
    to: str  # E.164
    body: str


class SmsSender(Protocol):
    def send(self, sms: Sms) -> None: ...


class WebhookSender:
    def __init__(self, url: str) -> None:
        self.url = url

    def send(self, sms: Sms) -> None:
        data = json.dumps({"to": sms.to, "body": sms.body}, ensure_ascii=False).encode()
        request = urllib.request.Request(self.url, data=data, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (configured URL)
                if not 200 <= response.status < 300:
                    raise TransportError(f"SMS gateway answered {response.status}")
        except (OSError, urllib.error.URLError) as e:
            raise TransportError(f"SMS gateway: {e}") from e


class OutboxSender:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, sms: Sms) -> None:
        outbox.write(self.folder, "sms", {"to": sms.to, "body": sms.body})


def sender_for(webhook_url: str, var_dir: Path) -> SmsSender:
    return WebhookSender(webhook_url) if webhook_url else OutboxSender(var_dir / "outbox")
