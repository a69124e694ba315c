"""Counters that slow guessing: consecutive failures per email, failures per source address."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class SignInFailures(Base):
    """Failed sign-ins counted under a key: ``email:<digest>`` for consecutive
    failures on one email (known or not, so the pages cannot tell which), and
    ``ip:<address>:<window>`` for failures from one source in a time window."""

    __tablename__ = "sign_in_failures"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime]


class RateLimit(Base):
    """At most ``limit`` uses of ``key`` in a window that starts at the first use.
    Taken by one conditional UPDATE, so racing requests cannot exceed it."""

    __tablename__ = "rate_limits"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    window_started_at: Mapped[datetime]
    count: Mapped[int] = mapped_column(default=0)
