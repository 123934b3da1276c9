"""In-process fixtures: the emulator app under Starlette's TestClient, with a settable clock."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from starlette.testclient import TestClient

from keycloak_duo_bridge.emulator import EmulatorState, IntegrationCredentials, create_app
from keycloak_duo_bridge.emulator.model import Integration

CLIENT_ID = "DIAPPAPPAPPAPPAPPAPP"
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
