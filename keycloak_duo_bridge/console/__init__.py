"""The bridge's browser pages: the admin console (``/admin``) and Duo self-service
(``/account/duo``), rendered on the server with Jinja2, without JavaScript.

People sign in through their own Keycloak realm (authorization code + PKCE, confidential
client ``kdb-console``; see :mod:`keycloak_duo_bridge.admin.console_client`). What an
administrator may manage follows the admin REST API's rules (:mod:`keycloak_duo_bridge.api.auth`).
"""

from __future__ import annotations

from typing import Any

from starlette.routing import Mount


def mounts(services: Any, api_app: Any) -> list[Mount]:
    """The console's and self-service's mounts, for the bridge's services and admin API."""
    from keycloak_duo_bridge.console.app import create_mounts  # noqa: PLC0415 - imports bridge.app

    return create_mounts(services, api_app.state.api)
