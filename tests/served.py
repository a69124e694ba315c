"""The provider under real gunicorn (config/gunicorn.py, wsgi:app), seeded with the
demo data, its whole output (application and gunicorn) written to one file."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from idp.config import load_settings

from . import services
from .conftest import Live, seeded_app, settings_environ

ROOT = Path(__file__).resolve().parents[1]
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
# Every served log of this process, for the final look for secrets (tests/secrets.py).
LOGS: list[Path] = []


@dataclass
class Served:
    live: Live
    log: Path
    process: subprocess.Popen[bytes]

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def gunicorn(database_url: str, folder: Path, key_template: Path, workers: int = 1, **extra: str) -> Iterator[Served]:
    """Serve on a free loopback port with ``workers`` sync workers and the access log on."""
    shutil.copytree(key_template, folder / "keys", dirs_exist_ok=True)
    port = services.free_port()
    url = f"http://127.0.0.1:{port}"
    environ = settings_environ(database_url, folder, url, **extra)
    settings = load_settings(environ)
    app = seeded_app(settings)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IDP_", "PROMETHEUS_"))}
    env.update(environ, ACCESS_LOG="1", WORKERS=str(workers), HOST="127.0.0.1", PORT=str(port))
    log = folder / "server.log"
    LOGS.append(log)
    with log.open("w") as out:
        process = subprocess.Popen(
            [GUNICORN, "-c", "config/gunicorn.py", "wsgi:app"], cwd=ROOT, env=env, stdout=out, stderr=out
        )
    try:
        services.wait_until_serving(url, process, log)
        yield Served(Live(url, app, settings), log, process)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
        app.extensions["idp.engine"].dispose()
