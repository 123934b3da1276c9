"""Fresh production secrets for the bridge, in the formats :mod:`settings` parses.

:func:`generate` makes a bridge signing key (PEM, EC P-256), a cookie secret (base64 of 32
random bytes), an envelope key ring of one key (JSON) with its id, and a ``/metrics``
token. :func:`env_file` writes them as a ``.env`` file (the PEM double-quoted over several
lines, as python-dotenv and Compose read it); :func:`check` loads such values back through
:class:`~keycloak_duo_bridge.settings.Settings` and every parser the bridge uses, so what is
printed is what the bridge accepts. Nothing here logs a value.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Final

from keycloak_duo_bridge.envelope import generate_key
from keycloak_duo_bridge.errors import ConfigError
from keycloak_duo_bridge.settings import cookie_ring, key_ring, load_settings, signing_key
from keycloak_duo_bridge.signing import SigningKey

VARIABLES: Final = (
    "KDB_BRIDGE_SIGNING_KEY",
    "KDB_BRIDGE_COOKIE_SECRET",
    "KDB_KEYRING",
    "KDB_ACTIVE_KEY_ID",
    "KDB_METRICS_TOKEN",
)
_KEY_ID: Final = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


def default_key_id(now: datetime | None = None) -> str:
    """A key id naming the day the key was made (``k20261201``), so rotations sort."""
    return (now or datetime.now(UTC)).strftime("k%Y%m%d")


def generate(key_id: str) -> dict[str, str]:
    """New values for :data:`VARIABLES`, the key ring holding one key named ``key_id``."""
    if not _KEY_ID.match(key_id):
        raise ConfigError(f"key id {key_id!r} must match [A-Za-z0-9_-]{{1,32}}")
    return {
        "KDB_BRIDGE_SIGNING_KEY": SigningKey.generate().to_pem(),
        "KDB_BRIDGE_COOKIE_SECRET": generate_key(),
        "KDB_KEYRING": json.dumps({key_id: generate_key()}),
        "KDB_ACTIVE_KEY_ID": key_id,
        "KDB_METRICS_TOKEN": secrets.token_urlsafe(32),
    }


def _quoted(value: str) -> str:
    if "\n" in value:  # the PEM: no quote or backslash in it, so double quotes keep it whole
        return f'"{value}"'
    if re.fullmatch(r"[A-Za-z0-9_\-+/=.]*", value):
        return value
    return f"'{value}'"  # JSON: single quotes keep its double quotes literal


def env_file(values: Mapping[str, str]) -> str:
    """``NAME=value`` lines, quoted where needed (values as :func:`generate` makes them)."""
    lines = ["# keycloak-duo-bridge secrets: every bridge replica needs the same values"]
    lines += [f"{name}={_quoted(value)}" for name, value in values.items()]
    return "\n".join(lines) + "\n"


def check(values: Mapping[str, str]) -> None:
    """Raise ConfigError unless the bridge would accept these values as they are."""
    missing = [name for name in VARIABLES if not values.get(name)]
    if missing:
        raise ConfigError(f"missing: {', '.join(missing)}")
    settings = load_settings(**{name.removeprefix("KDB_").lower(): v for name, v in values.items()})
    signing_key(settings)
    key_ring(settings)
    cookie_ring(settings)
