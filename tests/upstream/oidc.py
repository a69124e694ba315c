"""The four OpenID upstreams (server.mjs): installing oidc-provider, starting
and stopping the node process, registering clients and accounts on it."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from ..services import stop_process

HERE = Path(__file__).resolve().parent
INSTALL = HERE / ".modules"  # git-ignored: node_modules lives here
PROVIDERS = ("google", "microsoft", "daccount", "nttbizid")
# Microsoft tenants: accounts are in the home one unless told otherwise.
HOME_TENANT = "3f6d2a1c-8b4e-4c71-9d05-6a2e7b1c4f90"
OTHER_TENANT = "b82c5e07-1d9a-4f36-a4c8-0e5f3d7a9b12"
READY = "upstreams ready "


class UpstreamError(RuntimeError):
    """The upstreams cannot be installed or started; the message says why."""


@dataclass(frozen=True)
class Client:
    """A relying party registered at an upstream."""

    client_id: str
    client_secret: str
    redirect_uri: str


@dataclass(frozen=True)
class Account:
    """An upstream account; None claims are left out of tokens and userinfo."""

    provider: str
    sub: str
    email: str | None
    name: str | None
    email_verified: bool | None = True
    tenant: str | None = None  # Microsoft only: the tid of its tokens


@dataclass(frozen=True)
class OidcUpstream:
    name: str
    issuer: str  # Microsoft: the template with {tenantid}, as its discovery says
    discovery_url: str

    def issuer_for(self, tenant: str) -> str:
        """The iss of a Microsoft ID token for an account of ``tenant``."""
        return self.issuer.replace("{tenantid}", tenant)


def _digest() -> str:
    return hashlib.sha256(b"".join((HERE / n).read_bytes() for n in ("package.json", "package-lock.json"))).hexdigest()


def ensure_modules() -> Path:
    """Install the locked oidc-provider into .modules unless that lock is already there.

    An exclusive lock keeps parallel test processes from installing twice.
    """
    if not shutil.which("node") or not shutil.which("npm"):
        raise UpstreamError("node and npm are needed for the upstream providers (Debian: nodejs npm; `make test`)")
    INSTALL.mkdir(exist_ok=True)
    stamp = INSTALL / ".installed"
    with open(INSTALL / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not stamp.exists() or stamp.read_text() != _digest():
            _npm_ci()
            stamp.write_text(_digest())
    return INSTALL / "node_modules"


def _npm_ci() -> None:
    for name in ("package.json", "package-lock.json"):
        shutil.copy(HERE / name, INSTALL / name)
    command = ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"]
    try:
        subprocess.run(command, cwd=INSTALL, check=True, capture_output=True, text=True, timeout=300)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as err:
        output = err.stderr if isinstance(err.stderr, str) else ""
        version = json.loads((HERE / "package.json").read_text())["dependencies"]["oidc-provider"]
        raise UpstreamError(
            f"`npm ci` could not install oidc-provider {version} into {INSTALL} (does npm reach its registry?):\n"
            + output[-2000:]
        ) from err


class OidcUpstreams:
    """One node process serving the four providers on a loopback port."""

    def __init__(self, log_path: Path, port: int = 0) -> None:
        self.log_path = log_path
        self.port = port
        self.home_tenant = HOME_TENANT
        self.other_tenant = OTHER_TENANT
        self.base_url = ""
        self.providers: dict[str, OidcUpstream] = {}
        self._process: subprocess.Popen[bytes] | None = None

    def __getitem__(self, name: str) -> OidcUpstream:
        return self.providers[name]

    def start(self, timeout: float = 30.0) -> OidcUpstreams:
        modules = ensure_modules()
        config = json.dumps({"port": self.port, "tenants": [HOME_TENANT, OTHER_TENANT]})
        env = {**os.environ, "NODE_ENV": "production", "UPSTREAM_MODULES": str(modules)}
        with open(self.log_path, "wb") as log:
            self._process = subprocess.Popen(
                ["node", str(HERE / "server.mjs"), config], stdout=log, stderr=subprocess.STDOUT, env=env
            )
        self._ready(self._wait_for_ready(timeout))
        return self

    def _wait_for_ready(self, timeout: float) -> dict[str, object]:
        assert self._process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.log_path.read_text(errors="replace").splitlines():
                if line.startswith(READY):
                    return json.loads(line[len(READY) :])
            if self._process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise UpstreamError(f"the upstream providers did not start:\n{self.log_path.read_text(errors='replace')}")

    def _ready(self, info: dict[str, object]) -> None:
        self.base_url = str(info["base"])
        issuers = info["issuers"]
        assert isinstance(issuers, dict)
        for name, issuer in issuers.items():
            discovery = issuer.replace("{tenantid}", "common") + "/.well-known/openid-configuration"
            self.providers[name] = OidcUpstream(name, issuer, discovery)

    def stop(self) -> None:
        if self._process is None:
            return
        stop_process(self._process)
        self._process = None

    def _post(self, path: str, item: dict[str, object]) -> None:
        response = requests.post(self.base_url + path, json=item, timeout=10)
        assert response.status_code == 201, f"{path}: {response.status_code} {response.text}"

    def register_client(
        self,
        provider: str,
        redirect_uri: str,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        auth_method: str = "client_secret_basic",
    ) -> Client:
        """Register (or, for a known client_id, re-register) a confidential client."""
        client = Client(
            client_id or f"{provider}-{secrets.token_hex(4)}", client_secret or secrets.token_urlsafe(24), redirect_uri
        )
        self._post(
            "/_admin/clients",
            {
                "provider": provider,
                "client_id": client.client_id,
                "client_secret": client.client_secret,
                "redirect_uris": [redirect_uri],
                "token_endpoint_auth_method": auth_method,
            },
        )
        return client

    def tamper(self, provider: str, kind: str) -> None:
        """Spoil the next ID token ``provider`` issues: ``signature`` (a stranger's key,
        the same kid), ``iss``, ``aud``, ``nonce`` or ``expired``."""
        self._post("/_admin/tamper", {"provider": provider, "kind": kind})

    def add_account(
        self,
        provider: str,
        email: str | None,
        *,
        sub: str | None = None,
        name: str | None = None,
        email_verified: bool | None = True,
        tenant: str | None = None,
    ) -> Account:
        """An account that signs in on the login form by its sub or email.

        ``email_verified=None`` leaves the claim out (Microsoft sends none);
        ``tenant`` is Microsoft's tid, the home tenant by default.
        """
        if provider == "microsoft":
            tenant = tenant or HOME_TENANT
        account = Account(
            provider,
            sub or f"{provider}-{secrets.token_hex(6)}",
            email,
            name if name is not None else (email or "").split("@")[0] or None,
            email_verified,
            tenant,
        )
        self._post(
            "/_admin/accounts",
            {
                "provider": provider,
                "sub": account.sub,
                "email": account.email,
                "email_verified": account.email_verified,
                "name": account.name,
                "tenant": account.tenant,
            },
        )
        return account
