"""The emulator's Starlette application factory."""

from __future__ import annotations

from starlette.applications import Starlette

from keycloak_duo_bridge.emulator import (
    accounts_api,
    admin_api,
    auth_api,
    control,
    oauth,
    pages,
    prompt,
    rest_control,
)
from keycloak_duo_bridge.emulator.state import EmulatorState

__all__ = ["create_app"]


def create_app(state: EmulatorState | None = None) -> Starlette:
    """A Starlette app serving Duo's OIDC and REST endpoints, the prompt, the control API and
    a home page."""
    routes = [
        *pages.routes(),
        *oauth.routes(),
        *prompt.routes(),
        *control.routes(),
        *rest_control.routes(),
        *auth_api.routes(),
        *admin_api.routes(),
        *accounts_api.routes(),
    ]
    app = Starlette(routes=routes)
    app.state.emulator = state if state is not None else EmulatorState()
    return app
