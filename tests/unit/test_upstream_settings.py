"""IDP_UPSTREAM_* (CONTRACT.md): an upstream without a client id is off; a bad
URL stops start-up with one line naming the setting."""

from __future__ import annotations

import pytest

from idp.config import ConfigError, load_settings

BASE = {"IDP_SECRET_KEY": "k" * 40}


def test_only_upstreams_with_a_client_id_are_on() -> None:
    settings = load_settings({**BASE, "IDP_UPSTREAM_MICROSOFT_CLIENT_ID": "app", "IDP_UPSTREAM_GOOGLE_ISSUER": "x"})
    assert [u.provider for u in settings.upstreams] == ["microsoft"]
    microsoft = settings.upstream("microsoft")
    assert microsoft is not None and microsoft.issuer == "https://login.microsoftonline.com/common/v2.0"
    assert settings.upstream("google") is None


def test_a_bad_upstream_url_names_its_setting() -> None:
    environ = {**BASE, "IDP_UPSTREAM_FACEBOOK_CLIENT_ID": "app", "IDP_UPSTREAM_FACEBOOK_GRAPH_URL": "ftp://graph"}
    with pytest.raises(ConfigError, match="IDP_UPSTREAM_FACEBOOK_GRAPH_URL"):
        load_settings(environ)
