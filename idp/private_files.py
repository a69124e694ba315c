"""Files only the service's own user may read: the SQLite database (accounts,
sessions), the outbox (live links, SMS codes) and the generated secret key.

Files are created 0600 and the folders this service creates 0700, whatever
the umask. A folder that already exists is left as its owner made it: it
may be shared (an operator's ``/srv``), and only its new files are ours.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def folder(path: Path) -> Path:
    """``path`` as a folder, creating it and any missing parent 0700."""
    if not path.is_dir():
        folder(path.parent)
        try:
            path.mkdir(mode=FOLDER_MODE)
        except FileExistsError:
            pass  # made meanwhile by another worker
    return path


def create(path: Path) -> int | None:
    """Create ``path`` 0600 and return a descriptor open for writing, or None
    if it exists already."""
    folder(path.parent)
    try:
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return None


def write_new(path: Path, text: str) -> None:
    """Write ``text`` to a new file ``path`` that only this user can read."""
    fd = create(path)
    if fd is None:
        raise FileExistsError(path)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)


def write_once(path: Path, make: Callable[[], str]) -> None:
    """Give ``path`` the text ``make`` returns, unless it exists. Written whole
    under another name (dot-prefixed, so nothing lists it half-made), then
    linked: of two processes starting at once, one file wins and both read it."""
    if path.exists():
        return
    draft = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    write_new(draft, make())
    try:
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        draft.unlink()


def touch(path: Path) -> None:
    """Make sure ``path`` exists; if it is created here, it is created 0600."""
    fd = create(path)
    if fd is not None:
        os.close(fd)
