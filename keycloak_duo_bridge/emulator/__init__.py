"""A faithful local emulator of Duo's Universal Prompt (OIDC Auth API), with a prompt page,
and of Duo's REST APIs (Auth API v2, Admin API, Accounts API) with signed requests.

Start it in a background thread::

    from keycloak_duo_bridge.emulator import start_emulator

    with start_emulator(Path("duo-data")) as duo:
        app = duo.control.add_integration()
        # Client(app.client_id, app.client_secret, duo.api_host, redirect_uri,
        #        duo_certs=str(duo.ca_path))

or from the command line with ``keycloak-duo-bridge emulator``.

Where it sits: beside the bridge, not under it: it imports only :mod:`..duo`'s protocol
helpers and the shared modules; the CLI and the sandbox start it.
"""

from __future__ import annotations

from keycloak_duo_bridge.emulator.app import create_app
from keycloak_duo_bridge.emulator.client import (
    ApiCredentials,
    EmulatorControl,
    IntegrationCredentials,
)
from keycloak_duo_bridge.emulator.errors import (
    EmulatorError,
    InvalidClientError,
    InvalidGrantError,
    InvalidRequestError,
    RequestRejectedError,
    RestApiError,
    UnsupportedGrantTypeError,
)
from keycloak_duo_bridge.emulator.model import Faults, Integration, User
from keycloak_duo_bridge.emulator.server import RunningEmulator, serve, start_emulator
from keycloak_duo_bridge.emulator.state import EmulatorState

__all__ = [
    "ApiCredentials",
    "EmulatorControl",
    "EmulatorError",
    "EmulatorState",
    "Faults",
    "Integration",
    "IntegrationCredentials",
    "InvalidClientError",
    "InvalidGrantError",
    "InvalidRequestError",
    "RequestRejectedError",
    "RestApiError",
    "RunningEmulator",
    "UnsupportedGrantTypeError",
    "User",
    "create_app",
    "serve",
    "start_emulator",
]
