"""Where messages go when no transport is configured: one JSON file each in var/outbox/."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from .hashing import new_token


def write(folder: Path, kind: str, message: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{time.time_ns()}-{kind}-{new_token(4)}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"kind": kind, **message}, ensure_ascii=False, indent=2))
    os.replace(tmp, path)  # readers never see a half-written file
    return path
