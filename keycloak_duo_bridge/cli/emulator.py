"""``keycloak-duo-bridge emulator``: placeholder until the emulator lands (issue 3)."""

from __future__ import annotations

from keycloak_duo_bridge.cli._common import Subparsers


def register(subparsers: Subparsers) -> None:
    """The emulator command is registered by its own module once it exists."""
    del subparsers
