"""Which methods of the Keycloak adapter write: by its naming rule, every public method but
the reads (``get_*``, ``find_*``, ``has_*``) and the constructor ``from_settings``."""

from __future__ import annotations

from typing import Final

from keycloak_duo_bridge.admin.keycloak import Keycloak

READS: Final = ("get_", "find_", "has_", "from_settings", "_")


def write_methods() -> tuple[str, ...]:
    """The adapter's write methods, which tests count calls to (a re-run writes nothing)."""
    return tuple(sorted(name for name in vars(Keycloak) if not name.startswith(READS)))
