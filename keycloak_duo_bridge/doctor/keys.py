"""The doctor's check of the bridge's own secrets: present, and in the formats it parses."""

from __future__ import annotations

from collections.abc import Callable

from keycloak_duo_bridge.doctor.checks import Check, fail, ok, warn
from keycloak_duo_bridge.errors import ConfigError
from keycloak_duo_bridge.settings import Settings, cookie_ring, key_ring, signing_key

_GENERATE = "generate one with `keycloak-duo-bridge keys generate` (every replica needs the same)"


def _parsed(name: str, parse: Callable[[], str]) -> Check:
    try:
        return ok(name, parse())
    except ConfigError as exc:  # the messages name the variable, never its value
        return fail(name, str(exc), _GENERATE)


def _cookie(settings: Settings) -> str:
    cookie_ring(settings)
    return "KDB_BRIDGE_COOKIE_SECRET is 32 bytes"


def _ring(settings: Settings) -> str:
    ring = key_ring(settings)
    return f"KDB_KEYRING holds {len(ring.keys)} key(s), active {ring.active!r}"


def secrets(settings: Settings) -> list[Check]:
    """The signing key, the cookie secret, the key ring, and the bridge's Keycloak identity."""
    found = [
        _parsed("signing key", lambda: f"KDB_BRIDGE_SIGNING_KEY, kid {signing_key(settings).kid}"),
        _parsed("cookie secret", lambda: _cookie(settings)),
        _parsed("key ring", lambda: _ring(settings)),
    ]
    if settings.bridge_client_id and settings.bridge_client_secret is not None:
        found.append(ok("identity", f"service account client {settings.bridge_client_id!r}"))
    else:
        found.append(
            warn(
                "identity",
                "no KDB_BRIDGE_CLIENT_ID/_SECRET: the bridge reads realms with the admin password",
                "create the bridge's view-realm service account (docs/deploy.md) and set"
                " KDB_BRIDGE_CLIENT_ID and KDB_BRIDGE_CLIENT_SECRET",
            )
        )
    return found
