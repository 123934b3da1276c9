"""Fixtures for Duo's Admin and Accounts APIs (issue 17): clients of the session emulator.

``duo_rest_options`` trusts the emulator's CA and lets calls go to its loopback host;
``duo_rest_creds`` makes fresh Admin or Accounts API credentials there, optionally with
missing permissions or a scripted plan refusal, as our own client takes them.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from keycloak_duo_bridge.duo.rest_client import RestCredentials, RestOptions
from keycloak_duo_bridge.duo.rest_protocol import Api
from keycloak_duo_bridge.emulator import RunningEmulator
from keycloak_duo_bridge.emulator.rest_model import ApiKind, Refusal

MakeRestCreds = Callable[..., RestCredentials]


@pytest.fixture
def duo_rest_options(duo_emulator: RunningEmulator) -> RestOptions:
    """Our Duo TLS settings for the emulator: its CA, and its loopback host allowed."""
    return RestOptions(ca_file=duo_emulator.ca_path, allow_any_host=True)


@pytest.fixture
def duo_rest_creds(duo_emulator: RunningEmulator) -> MakeRestCreds:
    """``make(api, permissions=None, refusal=None)``: fresh credentials on the emulator."""

    def make(
        api: Api, *, permissions: list[str] | None = None, refusal: Refusal | None = None
    ) -> RestCredentials:
        kind: ApiKind = "adminapi" if api is Api.ADMIN else "accountsapi"
        made = duo_emulator.control.add_api_credentials(
            kind, permissions=permissions, refusal=refusal
        )
        return RestCredentials(made.ikey, made.skey, made.api_host, api)

    return make
