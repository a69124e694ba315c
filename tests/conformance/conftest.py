"""Fixtures for the conformance modules: the suite's client on a live provider."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ..conftest import Live, start_live
from .suite import Suite

# The issuer a deployment publishes behind its TLS-terminating proxy.
PUBLIC_ISSUER = "https://idp.example.test"


@pytest.fixture
def suite(live: Live) -> Suite:
    return Suite(live)


@pytest.fixture
def public_live(database_url: str, tmp_path: Path, key_template: Path) -> Iterator[Live]:
    """A provider configured with an https issuer, served on loopback as it would
    be behind a proxy: what the Config OP plan sees of a real deployment."""
    yield from start_live(database_url, tmp_path, key_template, IDP_ISSUER=PUBLIC_ISSUER)
