"""The emulator's Starlette application factory."""

from __future__ import annotations

from starlette.applications import Starlette

from keycloak_duo_bridge.emulator import control, oauth, pages, prompt
from keycloak_duo_bridge.emulator.state import EmulatorState

__all__ = ["create_app"]


def create_app(state: EmulatorState | None = None) -> Starlette:
    """A Starlette app serving Duo's endpoints, the prompt, the control API and a home page."""
    routes = [*pages.routes(), *oauth.routes(), *prompt.routes(), *control.routes()]
    app = Starlette(routes=routes)
    app.state.emulator = state if state is not None else EmulatorState()
    return app
