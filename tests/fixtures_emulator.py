"""Fixtures that run the Duo emulator (issue 3), for tests and docs pages.

``duo_emulator`` is one HTTPS emulator per session, on a free loopback port. Tests keep out
of each other's way by registering their own integration (``duo_integration``) and their own
usernames; ``duo_integration`` also clears injected faults when the test ends.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from keycloak_duo_bridge.emulator import IntegrationCredentials, RunningEmulator, start_emulator


@pytest.fixture(scope="session")
def duo_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    """The Duo emulator, serving HTTPS on 127.0.0.1 in a background thread."""
    with start_emulator(tmp_path_factory.mktemp("duo-emulator")) as emulator:
        yield emulator


@pytest.fixture
def duo_integration(duo_emulator: RunningEmulator) -> Iterator[IntegrationCredentials]:
    """A fresh integration (new-user policy ``enroll``); faults are cleared afterwards."""
    yield duo_emulator.control.add_integration()
    duo_emulator.control.set_faults()
