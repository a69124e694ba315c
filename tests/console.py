"""The installed `idp` console script, run as an operator or cron would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from idp.config import Settings

IDP = str(Path(sys.executable).with_name("idp"))


def idp_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment of an `idp` process working on the same folder and database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDP_")}
    env.update(
        IDP_ISSUER=settings.issuer,
        IDP_DATABASE_URL=settings.database_url,
        IDP_KEYS_DIR=str(settings.keys_dir),
        IDP_VAR_DIR=str(settings.var_dir),
        IDP_SECRET_KEY=settings.secret_key,
        **extra,
    )
    return env


def idp(settings: Settings, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([IDP, *args], env=idp_env(settings, **extra), capture_output=True, text=True, timeout=120)
