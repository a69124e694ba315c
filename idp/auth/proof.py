"""What a sign-in proved: who, when, by which methods, over which line.

The browser session, each authorization code and each grant carry one; the
tokens' ``auth_time``, ``amr`` and ``line_id`` are derived from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ..models import User


@dataclass
class Proof:
    user: User
    auth_time: datetime
    amr: list[str] = field(default_factory=list)
    line_id: str | None = None
    session_id: str | None = None
    # The grant that tokens issued from this proof belong to.
    grant_id: str | None = None

    def get_user_id(self) -> str:  # authlib asks the "user" for this
        return self.user.id
