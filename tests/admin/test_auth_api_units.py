"""Auth API credential units (#16) that need no Keycloak: when a stored skey counts as the
same secret, and the live check's refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import auth_api_settings
from keycloak_duo_bridge.duo.auth_protocol import AuthApiCredentials
from keycloak_duo_bridge.errors import DuoConfigError
from keycloak_duo_bridge.sandbox import secrets
from keycloak_duo_bridge.settings import key_ring, load_settings

SKEY = "s" * 40


def test_only_a_current_seal_of_the_same_skey_is_thesame_secret(tmp_path: Path) -> None:
    """Same skey under the active key: same; another realm's seal, another key, none: not."""
    settings = load_settings(
        **{k.removeprefix("KDB_").lower(): v for k, v in secrets.ensure(tmp_path).items()}
    )
    ring = key_ring(settings)
    sealed = ring.encrypt(SKEY, realm="r", attribute=attr.AUTH_API_SKEY)
    same = auth_api_settings.same_secret
    assert same(ring, sealed, SKEY, "r")
    assert not same(ring, sealed, SKEY, "other")
    assert not same(ring, None, SKEY, "r")
    parts = sealed.split(":")
    assert not same(ring, ":".join([parts[0], "old", *parts[2:]]), SKEY, "r")


def test_the_live_check_refuses_a_host_that_is_not_duos() -> None:
    """Without allow_any_host, the check sends nothing to a host that is not Duo's."""
    check = auth_api_settings.live_check()
    with pytest.raises(DuoConfigError, match="not a Duo API hostname"):
        check(AuthApiCredentials("D" * 20, SKEY, "internal.example"))
