"""What the provider writes to var/ (the SQLite database with its -wal and -shm
files, the outbox with live links and SMS codes, the generated secret key) is
readable by its own user only: files 0600 in a 0700 folder, whatever the umask."""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from idp import create_app, db, migrate
from idp.demo import seed

from ..conftest import make_settings
from ..rp import DEMO_PASSWORD, DEMO_USER, parse_forms

ISSUER = "http://127.0.0.1:8000"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """The usual umask, which leaves new files readable by everyone."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def submit(client, path: str, fields: dict[str, str]):  # type: ignore[no-untyped-def]
    form = parse_forms(client.get(path).get_data(as_text=True))[0]["fields"]
    response = client.post(path, data={**form, **fields})
    response.close()  # mails an anonymous page triggers go out when the response is done
    return response


def test_a_fresh_var_folder_is_private(tmp_path, key_template, loose_umask):
    var = tmp_path / "var"
    shutil.copytree(key_template, tmp_path / "keys")
    # No secret key, SMTP server or SMS gateway given: all of it lands in var/.
    settings = make_settings(f"sqlite:///{var}/idp.sqlite3", tmp_path, ISSUER, IDP_SECRET_KEY="")
    app = create_app(settings)
    try:
        migrate.upgrade(app.extensions["idp.engine"])
        with app.app_context():
            seed()
            db.commit()
        client = app.test_client()
        assert submit(client, "/login", {"email": DEMO_USER, "password": DEMO_PASSWORD}).status_code == 302
        submit(client, "/password/forgot", {"email": DEMO_USER})

        mails = list((var / "outbox").glob("*.json"))
        assert len(mails) == 1 and "/password/reset" in mails[0].read_text()
        assert mode(var) == 0o700 and mode(var / "outbox") == 0o700
        files = [var / "secret_key", var / "idp.sqlite3", var / "idp.sqlite3-wal", var / "idp.sqlite3-shm", *mails]
        assert {path.name: mode(path) for path in files} == {path.name: 0o600 for path in files}
    finally:
        app.extensions["idp.engine"].dispose()
