"""Where messages go when no transport is configured: one JSON file each in var/outbox/.

They hold live links and SMS codes, so only the service's user may read them
(0600 files in a 0700 folder, idp/private_files.py)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from . import private_files
from .hashing import new_token


def write(folder: Path, kind: str, message: dict[str, Any]) -> Path:
    path = folder / f"{time.time_ns()}-{kind}-{new_token(4)}.json"
    tmp = path.with_suffix(".tmp")
    private_files.write_new(tmp, json.dumps({"kind": kind, **message}, ensure_ascii=False, indent=2))
    os.replace(tmp, path)  # readers never see a half-written file
    return path
