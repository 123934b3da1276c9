"""The emulator's Starlette application factory."""

from __future__ import annotations

from starlette.applications import Starlette

from keycloak_duo_bridge.emulator import control, oauth, prompt
from keycloak_duo_bridge.emulator.state import EmulatorState

__all__ = ["create_app"]


def create_app(state: EmulatorState | None = None) -> Starlette:
    """A Starlette app serving Duo's endpoints, the prompt and the control API over ``state``."""
    app = Starlette(routes=[*oauth.routes(), *prompt.routes(), *control.routes()])
    app.state.emulator = state if state is not None else EmulatorState()
    return app
