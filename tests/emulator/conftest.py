"""In-process fixtures (the emulator app under Starlette's TestClient, with a settable clock),
and official ``duo_client`` clients for the session emulator's REST APIs."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import duo_client.client
import pytest
from starlette.testclient import TestClient

from keycloak_duo_bridge.emulator import (
    EmulatorState,
    IntegrationCredentials,
    RunningEmulator,
    create_app,
)
from keycloak_duo_bridge.emulator.client import ApiCredentials
from keycloak_duo_bridge.emulator.model import Integration

CLIENT_ID = "DIAPPAPPAPPAPPAPPAPP"
ClientT = TypeVar("ClientT", bound=duo_client.client.Client)
CLIENT_SECRET = "S3cr3t" * 6 + "abcd"


class Clock:
    """A clock tests can move."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@dataclass
class AppUnderTest:
    """The app, its state and clock, an HTTPS TestClient and one registered integration."""

    client: TestClient
    state: EmulatorState
    clock: Clock
    app: IntegrationCredentials


@pytest.fixture
def emu() -> Iterator[AppUnderTest]:
    """A fresh emulator app on ``https://testserver`` with integration ``CLIENT_ID``."""
    clock = Clock()
    state = EmulatorState(clock=clock)
    state.add_integration(Integration(CLIENT_ID, CLIENT_SECRET))
    creds = IntegrationCredentials(CLIENT_ID, CLIENT_SECRET, "testserver")
    with TestClient(
        create_app(state), base_url="https://testserver", follow_redirects=False
    ) as client:
        yield AppUnderTest(client, state, clock, creds)


# The REST APIs (Auth, Admin, Accounts), driven with the unmodified official ``duo_client``.
@dataclass
class RestClients:
    """Builds ``duo_client`` clients pointed at the session emulator, trusting its CA."""

    emulator: RunningEmulator

    def make(self, cls: type[ClientT], creds: ApiCredentials, **kwargs: Any) -> ClientT:
        """``cls(ikey, skey, host, port=..., ca_certs=...)`` exactly as a user would call it."""
        kwargs.setdefault("host", creds.host)
        client: ClientT = cls(
            ikey=creds.ikey,
            skey=creds.skey,
            port=creds.port,
            ca_certs=str(self.emulator.ca_path),
            **kwargs,
        )
        return client


@pytest.fixture
def rest(duo_emulator: RunningEmulator) -> RestClients:
    """A factory of official ``duo_client`` clients for the running emulator."""
    return RestClients(duo_emulator)


@pytest.fixture
def auth_creds(duo_emulator: RunningEmulator) -> ApiCredentials:
    """Fresh Auth API credentials (new-user policy ``enroll``)."""
    return duo_emulator.control.add_api_credentials("authapi")


@pytest.fixture
def admin_creds(duo_emulator: RunningEmulator) -> ApiCredentials:
    """Fresh Admin API credentials with every permission."""
    return duo_emulator.control.add_api_credentials("adminapi")


@pytest.fixture
def accounts_creds(duo_emulator: RunningEmulator) -> ApiCredentials:
    """Fresh Accounts API credentials of the main account."""
    return duo_emulator.control.add_api_credentials("accountsapi")


@pytest.fixture
def username() -> str:
    """A username no other test uses (the session emulator's users are shared)."""
    return f"user-{uuid.uuid4().hex[:12]}"
