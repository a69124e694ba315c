"""Fixtures: a live provider on a loopback port, on SQLite and on PostgreSQL.

Every storage-touching test takes ``live`` (or ``app``) and so runs twice, with
the ids ``sqlite`` and ``postgresql``. PostgreSQL is the machine's on
127.0.0.1:5432, or a private one started here (tests/services.py); no test is
skipped for want of it.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import text
from werkzeug.serving import make_server

from idp import clock, create_app, db, migrate
from idp.config import Settings, load_settings
from idp.keys import KeyStore
from idp.models import Base

from . import secrets, services
from .adfs import adfs  # noqa: F401 (fixture)
from .ldap_server import ldap_server, ldap_trusted  # noqa: F401 (fixtures)
from .rp import Browser, RelyingParty
from .transports import MailServer, SmsGateway
from .upstream import facebook_upstream, oidc_upstreams  # noqa: F401 (fixtures)

BACKENDS = ["sqlite", "postgresql"]


def _database_name() -> str:
    # Unique per process, so parallel runs and xdist workers never share one.
    return f"idp_test_{os.getpid()}"


@pytest.fixture(scope="session", autouse=True)
def no_secret_in_any_log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The whole session's look for secrets (tests/secrets.py): the providers'
    log lines of this process go to a file in the JSON shape they have in
    production; at the end it and every gunicorn run's output are searched for
    every secret the tests sent or received."""
    from idp.operations.logs import JsonFormatter

    from .served import LOGS

    secrets.install()
    path = tmp_path_factory.mktemp("logs") / "idp.log"
    handler = logging.FileHandler(path)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("idp")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield
    logger.removeHandler(handler)
    handler.close()
    found = secrets.leaks([path, *LOGS], secrets.SEEN)
    assert not found, f"secrets in the logs: {found}"


@pytest.fixture(scope="session")
def key_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("keys")
    KeyStore(folder).ensure()
    return folder


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One migrated database per backend and process; tests empty it before use."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db')}/idp.sqlite3"
    else:
        url = services.fresh_database(services.postgres_url(), _database_name())
    engine = db.make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    yield url
    if request.param == "postgresql":
        services.drop_database(services.postgres_url(), _database_name())


def settings_environ(database_url: str, folder: Path, issuer: str, **extra: str) -> dict[str, str]:
    """The IDP_* variables of a test provider whose files live in ``folder``."""
    return {
        "IDP_ISSUER": issuer,
        "IDP_DATABASE_URL": database_url,
        "IDP_KEYS_DIR": str(folder / "keys"),
        "IDP_VAR_DIR": str(folder / "var"),
        "IDP_SECRET_KEY": "test-secret-key-" + "x" * 32,
        # argon2id still runs on every password, at a cost that keeps the suite quick.
        "IDP_PASSWORDS_TIME_COST": "1",
        "IDP_PASSWORDS_MEMORY_COST": "4096",
        **extra,
    }


def make_settings(database_url: str, folder: Path, issuer: str, **extra: str) -> Settings:
    return load_settings(settings_environ(database_url, folder, issuer, **extra))


def empty_database(app: Flask) -> None:
    engine = app.extensions["idp.engine"]
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(text(f'DELETE FROM "{table.name}"'))


@pytest.fixture(scope="session")
def mail_server() -> Iterator[MailServer]:
    server = MailServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sms_gateway() -> Iterator[SmsGateway]:
    gateway = SmsGateway().start()
    yield gateway
    gateway.stop()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[services.RedisServer]:
    server = services.RedisServer().start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: services.RedisServer) -> str:
    """A Redis emptied for this test."""
    import redis

    with redis.Redis.from_url(redis_server.url) as client:
        client.flushdb()
    return redis_server.url


@pytest.fixture
def mail(mail_server: MailServer) -> MailServer:
    mail_server.inbox.clear()
    return mail_server


@pytest.fixture
def sms(sms_gateway: SmsGateway) -> Iterator[SmsGateway]:
    sms_gateway.inbox.clear()
    sms_gateway.failing = False
    yield sms_gateway
    sms_gateway.failing = False


@dataclass
class Live:
    url: str
    app: Flask
    settings: Settings

    def rp(self, **kwargs: object) -> RelyingParty:
        return RelyingParty(self.url, **kwargs)  # type: ignore[arg-type]

    def browser(self) -> Browser:
        return Browser(self.url)


def seeded_app(settings: Settings) -> Flask:
    """The provider's application on an emptied database holding the demo data."""
    app = create_app(settings)
    empty_database(app)
    with app.app_context():
        from idp.demo import seed

        seed()
        db.commit()
    return app


def start_live(database_url: str, folder: Path, key_template: Path, **extra: str) -> Iterator[Live]:
    """Serve a provider on a free loopback port in a thread, seeded with the demo data."""
    shutil.copytree(key_template, folder / "keys", dirs_exist_ok=True)
    port = services.free_port()
    url = f"http://127.0.0.1:{port}"
    settings = make_settings(database_url, folder, url, **extra)
    app = seeded_app(settings)
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield Live(url, app, settings)
    finally:
        server.shutdown()
        thread.join(5)
        app.extensions["idp.engine"].dispose()
        clock.reset()


@pytest.fixture
def live(database_url: str, tmp_path: Path, key_template: Path, mail: MailServer, sms: SmsGateway) -> Iterator[Live]:
    """A provider with real transports: mail to the SMTP server, SMS to the gateway."""
    yield from start_live(database_url, tmp_path, key_template, IDP_SMTP_URL=mail.url, IDP_SMS_WEBHOOK_URL=sms.url)


@pytest.fixture
def app(live: Live) -> Flask:
    return live.app
