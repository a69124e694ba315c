"""Settings: config/default.toml, then the file named by IDP_CONFIG, then IDP_* variables.

A bad setting stops start-up with one line naming the setting, the value and
why it is wrong (ConfigError); it never surfaces as a traceback.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urlsplit

from . import private_files

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FILE = ROOT / "config" / "default.toml"


class ConfigError(Exception):
    """A setting that cannot be used; the message is meant for an operator."""

    def __init__(self, name: str, value: Any, why: str) -> None:
        super().__init__(f"setting {name}={value!r} is invalid: {why}")


def env_name(path: tuple[str, ...]) -> str:
    return "IDP_" + "_".join(path).upper()


def _flatten(table: dict[str, Any], prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    flat: dict[tuple[str, ...], Any] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, prefix + (key,)))
        else:
            flat[prefix + (key,)] = value
    return flat


def _read_toml(path: Path, name: str) -> dict[tuple[str, ...], Any]:
    try:
        with path.open("rb") as f:
            return _flatten(tomllib.load(f))
    except FileNotFoundError:
        raise ConfigError(name, str(path), "file not found") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(name, str(path), f"not valid TOML ({e})") from None


def _coerce(path: tuple[str, ...], default: Any, raw: Any) -> Any:
    """Give a value from a file or the environment the type of its default."""
    name = env_name(path)
    if isinstance(default, bool):
        if isinstance(raw, bool):
            return raw
        if str(raw).lower() in ("1", "true", "yes", "on"):
            return True
        if str(raw).lower() in ("0", "false", "no", "off"):
            return False
        raise ConfigError(name, raw, "expected true or false")
    if isinstance(default, int):
        # TOML true or 1.5 would pass int() silently as 1.
        if isinstance(raw, bool | float):
            raise ConfigError(name, raw, "expected a whole number")
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise ConfigError(name, raw, "expected a whole number") from None
    if not isinstance(raw, str):
        raise ConfigError(name, raw, "expected a string")
    return raw


def load_raw(environ: dict[str, str] | None = None) -> dict[tuple[str, ...], Any]:
    environ = dict(os.environ if environ is None else environ)
    values = _read_toml(DEFAULT_FILE, "default config")
    if extra := environ.get("IDP_CONFIG"):
        for path, raw in _read_toml(Path(extra), "IDP_CONFIG").items():
            if path not in values:
                raise ConfigError(env_name(path), raw, "unknown setting in IDP_CONFIG")
            values[path] = _coerce(path, values[path], raw)
    for path, default in list(values.items()):
        if (raw := environ.get(env_name(path))) is not None:
            values[path] = _coerce(path, default, raw)
    return values


OIDC_UPSTREAMS = ("google", "microsoft", "daccount", "nttbizid")
FACEBOOK = "facebook"


@dataclass(frozen=True)
class Upstream:
    """This provider's registration at one upstream (CONTRACT.md: IDP_UPSTREAM_<P>_*).
    ``issuer`` for an OpenID provider; the three URLs for Facebook."""

    provider: str
    client_id: str
    client_secret: str
    issuer: str = ""
    authorize_url: str = ""
    token_url: str = ""
    graph_url: str = ""


@dataclass(frozen=True)
class Settings:
    issuer: str
    database_url: str
    secret_key: str
    smtp_url: str
    mail_from: str
    sms_webhook_url: str
    redis_url: str
    var_dir: Path
    default_locale: str
    keys_dir: Path
    keys_passphrase: str
    jwks_max_age: int
    rotate_after_days: int
    code_ttl: int
    access_token_ttl: int
    id_token_ttl: int
    refresh_token_ttl: int
    refresh_absolute_days: int
    access_token_audience: str
    session_lifetime: int
    session_cookie: str
    session_idle_minutes: int
    argon2_time_cost: int
    argon2_memory_cost: int
    argon2_parallelism: int
    trial_days: int
    plan_change_grace_days: int
    keep_cancelled_days: int
    client_secret_grace_hours: int
    source_failure_limit: int
    trusted_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
    line_header: str
    audit_retention_days: int
    metrics_token: str
    ad_metadata_timeout: int
    ad_metadata_max_bytes: int
    saml_skew: int
    ldap_timeout: int
    line_trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
    # Only the upstreams with a client id: the others are off.
    upstreams: tuple[Upstream, ...] = ()

    def upstream(self, provider: str) -> Upstream | None:
        return next((u for u in self.upstreams if u.provider == provider), None)

    @property
    def https(self) -> bool:
        return self.issuer.startswith("https://")

    @property
    def audience(self) -> str:
        return self.access_token_audience or self.issuer

    @property
    def longest_token_ttl(self) -> int:
        return max(self.access_token_ttl, self.id_token_ttl)


def _path(value: str) -> Path:
    p = Path(value)
    return p if p.is_absolute() else ROOT / p


def _split(name: str, value: str, secret: bool = True) -> SplitResult:
    """urlsplit, with what it leaves for later (a bad port, a broken IPv6
    literal) turned into a setting error now rather than a traceback.
    ``secret``: the URL may hold a password, so the message hides it."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as e:
        shown = _without_password(value) if secret else value
        raise ConfigError(name, shown, f"not a valid URL ({e})") from None
    return parts


def _check_issuer(value: str) -> str:
    parts = _split("IDP_ISSUER", value, secret=False)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError("IDP_ISSUER", value, "must be an http(s) URL")
    if parts.query or parts.fragment:
        raise ConfigError("IDP_ISSUER", value, "must not have a query or fragment (OIDC Discovery §3)")
    return value.rstrip("/")


def _check_url(name: str, value: str, schemes: tuple[str, ...]) -> str:
    if value and _split(name, value).scheme not in schemes:
        raise ConfigError(name, _without_password(value), f"scheme must be one of {', '.join(schemes)}")
    return value


def _without_password(url: str) -> str:
    """The URL as it may appear in a message or a log: no password."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "…"  # too broken to tell the password apart
    if password is None:
        return url
    return parts._replace(netloc=parts.netloc.replace(":" + password + "@", ":***@", 1)).geturl()


def _networks(
    value: str, name: str = "IDP_LINE_TRUSTED_PROXIES"
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    nets = []
    for part in filter(None, (p.strip() for p in value.split(","))):
        try:
            nets.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ConfigError(name, part, "not an IP address or CIDR") from None
    return tuple(nets)


def _positive(name: str, value: int, minimum: int = 1) -> int:
    if value < minimum:
        raise ConfigError(name, value, f"must be at least {minimum}")
    return value


def _secret_key(value: str, var_dir: Path) -> str:
    if value:
        if len(value) < 32:
            raise ConfigError("IDP_SECRET_KEY", "…", "must be at least 32 characters")
        return value
    path = var_dir / "secret_key"
    # 0600 in a 0700 folder: of two workers starting at once, one key wins and both read it.
    private_files.write_once(path, lambda: secrets.token_urlsafe(48))
    return path.read_text().strip()


def _upstreams(v: dict[tuple[str, ...], Any]) -> tuple[Upstream, ...]:
    found = []
    for provider in (*OIDC_UPSTREAMS, FACEBOOK):
        table = {path[2]: value for path, value in v.items() if path[:2] == ("upstream", provider)}
        if not table["client_id"]:
            continue
        for key in ("issuer", "authorize_url", "token_url", "graph_url"):
            if key in table:
                name = env_name(("upstream", provider, key))
                if _split(name, table[key], secret=False).scheme not in ("http", "https"):
                    raise ConfigError(name, table[key], "must be an http(s) URL")
                table[key] = table[key].rstrip("/")
        found.append(Upstream(provider=provider, **table))
    return tuple(found)


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    v = load_raw(environ)
    var_dir = _path(v[("var_dir",)])
    database_url = v[("database_url",)]
    if database_url.startswith("sqlite:///") and not database_url.startswith("sqlite:////"):
        relative = database_url.removeprefix("sqlite:///")
        if relative and relative != ":memory:":
            database_url = "sqlite:///" + str(_path(relative))
    if not database_url.split(":", 1)[0].startswith(("sqlite", "postgresql")):
        why = "only sqlite and postgresql are supported"
        raise ConfigError("IDP_DATABASE_URL", _without_password(database_url), why)
    locale = v[("default_locale",)]
    if locale not in ("ja", "en"):
        raise ConfigError("IDP_DEFAULT_LOCALE", locale, "must be ja or en")
    return Settings(
        issuer=_check_issuer(v[("issuer",)]),
        database_url=database_url,
        secret_key=_secret_key(v[("secret_key",)], var_dir),
        smtp_url=_check_url("IDP_SMTP_URL", v[("smtp_url",)], ("smtp",)),
        mail_from=v[("mail_from",)],
        sms_webhook_url=_check_url("IDP_SMS_WEBHOOK_URL", v[("sms_webhook_url",)], ("http", "https")),
        redis_url=_check_url("IDP_REDIS_URL", v[("redis_url",)], ("redis", "rediss", "unix")),
        var_dir=var_dir,
        default_locale=locale,
        keys_dir=_path(v[("keys", "dir")]),
        keys_passphrase=v[("keys", "passphrase")],
        jwks_max_age=_positive("IDP_KEYS_JWKS_MAX_AGE", v[("keys", "jwks_max_age")], 0),
        rotate_after_days=_positive("IDP_KEYS_ROTATE_AFTER_DAYS", v[("keys", "rotate_after_days")], 0),
        code_ttl=_positive("IDP_TOKENS_AUTHORIZATION_CODE_TTL", v[("tokens", "authorization_code_ttl")]),
        access_token_ttl=_positive("IDP_TOKENS_ACCESS_TOKEN_TTL", v[("tokens", "access_token_ttl")]),
        id_token_ttl=_positive("IDP_TOKENS_ID_TOKEN_TTL", v[("tokens", "id_token_ttl")]),
        refresh_token_ttl=_positive("IDP_TOKENS_REFRESH_TOKEN_TTL", v[("tokens", "refresh_token_ttl")]),
        refresh_absolute_days=_positive("IDP_TOKENS_REFRESH_ABSOLUTE_DAYS", v[("tokens", "refresh_absolute_days")]),
        access_token_audience=v[("tokens", "access_token_audience")],
        session_lifetime=_positive("IDP_SESSION_LIFETIME", v[("session", "lifetime")], 60),
        session_cookie=v[("session", "cookie_name")],
        session_idle_minutes=_positive("IDP_SESSION_IDLE_MINUTES", v[("session", "idle_minutes")]),
        argon2_time_cost=_positive("IDP_PASSWORDS_TIME_COST", v[("passwords", "time_cost")]),
        argon2_memory_cost=_positive("IDP_PASSWORDS_MEMORY_COST", v[("passwords", "memory_cost")], 8),
        argon2_parallelism=_positive("IDP_PASSWORDS_PARALLELISM", v[("passwords", "parallelism")]),
        trial_days=_positive("IDP_TENANTS_TRIAL_DAYS", v[("tenants", "trial_days")]),
        plan_change_grace_days=_positive(
            "IDP_TENANTS_PLAN_CHANGE_GRACE_DAYS", v[("tenants", "plan_change_grace_days")], 0
        ),
        keep_cancelled_days=_positive("IDP_TENANTS_KEEP_CANCELLED_DAYS", v[("tenants", "keep_cancelled_days")], 0),
        client_secret_grace_hours=_positive("IDP_CLIENTS_SECRET_GRACE_HOURS", v[("clients", "secret_grace_hours")], 0),
        source_failure_limit=_positive("IDP_SECURITY_SOURCE_FAILURE_LIMIT", v[("security", "source_failure_limit")]),
        trusted_networks=_networks(v[("security", "trusted_networks")], "IDP_SECURITY_TRUSTED_NETWORKS"),
        line_header=v[("line", "header")],
        audit_retention_days=_positive("IDP_AUDIT_RETENTION_DAYS", v[("audit", "retention_days")], 0),
        metrics_token=v[("metrics_token",)],
        ad_metadata_timeout=_positive("IDP_AD_METADATA_TIMEOUT", v[("ad", "metadata_timeout")]),
        ad_metadata_max_bytes=_positive("IDP_AD_METADATA_MAX_BYTES", v[("ad", "metadata_max_bytes")], 1024),
        saml_skew=_positive("IDP_AD_SAML_SKEW", v[("ad", "saml_skew")], 0),
        ldap_timeout=_positive("IDP_AD_LDAP_TIMEOUT", v[("ad", "ldap_timeout")]),
        line_trusted_proxies=_networks(v[("line", "trusted_proxies")]),
        upstreams=_upstreams(v),
    )
