"""Talking to Duo's OIDC Auth API (Universal Prompt): protocol in pure functions, I/O apart."""

from keycloak_duo_bridge.duo.client import DuoClient
from keycloak_duo_bridge.duo.protocol import DuoCredentials

__all__ = ["DuoClient", "DuoCredentials"]
