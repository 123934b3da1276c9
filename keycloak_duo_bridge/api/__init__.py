"""The admin REST API, mounted by the bridge at ``/admin/api`` (see :mod:`.app`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette

from keycloak_duo_bridge.admin.wiring import Wiring
from keycloak_duo_bridge.api.auth import Jwks
from keycloak_duo_bridge.envelope import KeyRing


@dataclass(frozen=True)
class ApiServices:
    """What the API needs: the key ring, what "Duo on" publishes, and realms' public keys."""

    keyring: KeyRing
    wires: Wiring
    jwks: Jwks


def mount(services: Any) -> Starlette:
    """The API app for the bridge's services (``bridge.app.Services``)."""
    from keycloak_duo_bridge.api.app import create_api  # noqa: PLC0415 - app imports this

    wires = Wiring.of(services.settings)
    return create_api(services.settings, ApiServices(services.keyring, wires, services.jwks.jwks))
