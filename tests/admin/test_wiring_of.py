"""What "Duo on" publishes: the bridge's key, and during a roll the keys it is told to add."""

from __future__ import annotations

import json

import pytest

from keycloak_duo_bridge.admin.wiring import Wiring
from keycloak_duo_bridge.errors import ConfigError
from keycloak_duo_bridge.settings import load_settings
from keycloak_duo_bridge.signing import SigningKey, jwks

NEW, OLD = SigningKey.generate(), SigningKey.generate()


def settings(extra: str | None = None) -> Wiring:
    """The wiring of a bridge with key NEW and ``KDB_BRIDGE_EXTRA_JWKS=extra``."""
    return Wiring.of(
        load_settings(bridge_signing_key=NEW.to_pem(), bridge_extra_jwks=extra),
        "https://bridge.test",
    )


def kids(wires: Wiring) -> list[str]:
    return [k["kid"] for k in json.loads(wires.jwks)["keys"]]


def test_the_current_key_alone_by_default() -> None:
    """Without extra keys the realm gets the bridge's current public key only."""
    wires = settings()
    assert (wires.bridge_url, kids(wires)) == ("https://bridge.test", [NEW.kid])


def test_a_roll_publishes_the_old_key_too_once() -> None:
    """The old JWKS (as a realm holds it) is added, without repeating the current key."""
    assert kids(settings(json.dumps(jwks(OLD, NEW)))) == [NEW.kid, OLD.kid]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("{", "not JSON"),
        ('{"keys": [{"kty": "EC"}]}', "expected"),
        ("[]", "expected"),
        (json.dumps({"keys": [{**OLD.public_jwk(), "d": "secret"}]}), "private key material"),
    ],
)
def test_bad_extra_keys_are_refused(extra: str, message: str) -> None:
    """Malformed extra keys, and any private key material, stop the bridge from publishing."""
    with pytest.raises(ConfigError, match=message):
        settings(extra)
