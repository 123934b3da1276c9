"""The admin REST API at ``/admin/api``, composed by :mod:`keycloak_duo_bridge.app`.

:mod:`.app` holds the handlers and the route table, :mod:`.models` the bodies and answers,
:mod:`.openapi` the document generated from both, and :mod:`.auth` who calls and what they
may manage.
"""

from __future__ import annotations

from dataclasses import dataclass

from keycloak_duo_bridge.admin.wiring import Wiring
from keycloak_duo_bridge.api.auth import Jwks
from keycloak_duo_bridge.envelope import KeyRing


@dataclass(frozen=True)
class ApiServices:
    """What the API needs: the key ring, what "Duo on" publishes, and realms' public keys."""

    keyring: KeyRing
    wires: Wiring
    jwks: Jwks
