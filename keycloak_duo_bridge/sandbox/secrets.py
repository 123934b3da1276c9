"""The sandbox's own secrets: an envelope key ring and a bridge signing key.

Generated once per state dir and kept there, readable by the owner only, so that
``sandbox env`` can point every command at the same keys. Production deployments set
``KDB_KEYRING``, ``KDB_ACTIVE_KEY_ID`` and ``KDB_BRIDGE_SIGNING_KEY`` themselves.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from keycloak_duo_bridge.envelope import generate_key
from keycloak_duo_bridge.sandbox import process
from keycloak_duo_bridge.signing import SigningKey

SANDBOX_KEY_ID = "sandbox1"


def _generate() -> dict[str, str]:
    return {
        "KDB_KEYRING": json.dumps({SANDBOX_KEY_ID: generate_key()}),
        "KDB_ACTIVE_KEY_ID": SANDBOX_KEY_ID,
        "KDB_BRIDGE_SIGNING_KEY": SigningKey.generate().to_pem(),
        "KDB_BRIDGE_COOKIE_SECRET": generate_key(),
        "KDB_METRICS_TOKEN": secrets.token_urlsafe(32),
    }


# The sandbox's Duo is the emulator on 127.0.0.1:<port>, not a Duo API hostname.
SANDBOX_SETTINGS = {"KDB_DUO_ALLOW_ANY_HOST": "true"}


def ensure(state_dir: Path) -> dict[str, str]:
    """The sandbox's ``KDB_*`` variables: its secrets (generated on first use, and kept),
    and the allowance for the emulator's host."""
    path = state_dir / "sandbox-secrets.json"
    stored = process.read_state(path) or {}
    missing = {k: v for k, v in _generate().items() if k not in stored}
    if missing:  # first use, or a state dir from a version with fewer secrets
        stored = {**stored, **missing}
        process.write_state(path, stored)
    return {**{str(k): str(v) for k, v in stored.items()}, **SANDBOX_SETTINGS}
