"""Fixtures for Duo's Auth API and CIBA (issue #16): fresh Auth API credentials at the
session emulator, and usernames no other test uses."""

from __future__ import annotations

import uuid

import pytest

from keycloak_duo_bridge.duo.auth_protocol import AuthApiCredentials
from keycloak_duo_bridge.emulator import RunningEmulator


@pytest.fixture
def auth_api_creds(duo_emulator: RunningEmulator) -> AuthApiCredentials:
    """Fresh Auth API credentials at the emulator (new-user policy enroll), as the bridge
    holds them."""
    api = duo_emulator.control.add_api_credentials("authapi")
    return AuthApiCredentials(api.ikey, api.skey, api.api_host)


@pytest.fixture
def ciba_username() -> str:
    """A lower-case username no other test uses (the session emulator's users are shared)."""
    return f"ciba-{uuid.uuid4().hex[:12]}"
