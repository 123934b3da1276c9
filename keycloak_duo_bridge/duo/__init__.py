"""Talking to Duo's OIDC Auth API (Universal Prompt): protocol in pure functions, I/O apart.

Where it sits: at the bottom, beside the shared top-level modules; the bridge, the admin
service, the console and the emulator use it, and it imports none of them.
"""

from keycloak_duo_bridge.duo.client import DuoClient
from keycloak_duo_bridge.duo.protocol import DuoCredentials

__all__ = ["DuoClient", "DuoCredentials"]
