"""The bridge restarts with a rotated signing key while verdicts of the old key are in flight.

A verdict is "in flight" between the bridge signing it and Keycloak reading it: it is in the
browser's redirect. The extension verifies it against the realm's ``kdb.bridge.jwks``, read on
every login, so what happens depends only on which public keys the realm publishes then.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx2
import jwt
import pytest
from pydantic import SecretStr

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.sandbox.walk import WalkError
from keycloak_duo_bridge.server import start_bridge
from keycloak_duo_bridge.serving import ServerThread
from keycloak_duo_bridge.settings import Settings, signing_key
from keycloak_duo_bridge.signing import SigningKey, jwks
from tests.fixtures_bridge import Tenant, TenantFactory
from tests.restart_helpers import hooked_client, point_realm_at, walk

pytestmark = pytest.mark.keycloak

NEW_KEY = SigningKey.generate()
REFUSED = "The two-factor result could not be verified. Please sign in again."


@dataclass
class RollingBridge:
    """One bridge address whose process can be restarted with another signing key."""

    stack_settings: Settings
    port: int = 0
    server: ServerThread | None = None
    url: str = ""
    kids: list[str] = field(default_factory=list)

    def start(self, key: SigningKey) -> None:
        """Serve the bridge on this address, signing verdicts with ``key``."""
        pem = SecretStr(key.to_pem())
        self.server, settings = start_bridge(
            lambda url: self.stack_settings.model_copy(
                update={"bridge_url": url, "bridge_signing_key": pem}
            ),
            port=self.port,
        )
        self.port, self.url = self.server.port, settings.bridge_url

    def restart(self, key: SigningKey) -> None:
        """Stop the running process and start another on the same address with ``key``."""
        assert self.server is not None
        self.server.stop()
        self.start(key)


@pytest.fixture
def rolling_bridge(stack_settings: Settings) -> Iterator[RollingBridge]:
    """A bridge on its own port, first signing with the stack's key (the realm's published one)."""
    rolling = RollingBridge(stack_settings)
    rolling.start(signing_key(stack_settings))
    try:
        yield rolling
    finally:
        assert rolling.server is not None
        rolling.server.stop()


def publish(tenant: Tenant, *keys: SigningKey) -> None:
    """Publish exactly these bridge public keys in the realm's JWKS."""
    point_realm_at(tenant, **{attr.BRIDGE_JWKS: json.dumps(jwks(*keys))})


def login(
    tenant: Tenant, *, accepted: bool, on_verdict: Callable[[], None] = lambda: None
) -> list[str]:
    """Walk a login, calling ``on_verdict`` while its verdict is in flight; check the outcome.

    Returns the key ids of the verdicts Keycloak was handed.
    """
    kids: list[str] = []

    def watch(request: httpx2.Request) -> None:
        verdict = request.url.params.get("verdict")
        if verdict is not None:
            kids.append(str(jwt.get_unverified_header(verdict)["kid"]))
            on_verdict()

    with hooked_client(tenant, watch) as client:
        if accepted:
            assert walk(tenant, "rolf", client).id_claims["duo"]["result"] == "allow"
            return kids
        with pytest.raises(WalkError, match=REFUSED):
            walk(tenant, "rolf", client)
    [error, *_] = tenant.events("CUSTOM_REQUIRED_ACTION_ERROR")
    assert error["error"] == "duo_invalid_verdict"
    assert error["details"]["duo_reason"] == "verdict signed by an unknown key"
    return kids


@dataclass(frozen=True)
class Roll:
    """Which public keys the realm publishes once the bridge restarted, and what then passes."""

    published: tuple[str, ...]
    in_flight: str  # what Keycloak does with the old-key verdict in flight: accepted / refused
    next_login: str  # and with the restarted bridge's new-key verdict


@pytest.mark.parametrize(
    "roll",
    [
        pytest.param(Roll(("old", "new"), "accepted", "accepted"), id="both-keys-published"),
        pytest.param(Roll(("new",), "refused", "accepted"), id="old-key-removed-too-early"),
        pytest.param(Roll(("old",), "accepted", "refused"), id="new-key-not-yet-published"),
    ],
)
def test_restart_with_rotated_key_while_verdicts_in_flight(
    duo_tenant: TenantFactory, rolling_bridge: RollingBridge, roll: Roll
) -> None:
    """An old-key verdict passes only while the old key is published; new ones need the new."""
    old_key = signing_key(rolling_bridge.stack_settings)
    keys = {"old": old_key, "new": NEW_KEY}
    tenant = duo_tenant()
    tenant.user("rolf")
    point_realm_at(tenant, **{attr.BRIDGE_URL: rolling_bridge.url})

    def restart_and_publish() -> None:
        rolling_bridge.restart(NEW_KEY)
        publish(tenant, *(keys[name] for name in roll.published))

    in_flight = login(tenant, accepted=roll.in_flight == "accepted", on_verdict=restart_and_publish)
    assert in_flight == [old_key.kid]
    assert login(tenant, accepted=roll.next_login == "accepted") == [NEW_KEY.kid]
