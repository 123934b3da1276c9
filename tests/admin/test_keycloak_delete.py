"""A realm delete that outlasts the read timeout is awaited, not abandoned half-way."""

from __future__ import annotations

from typing import Any, cast

import pytest
from keycloak import KeycloakAdmin
from keycloak.exceptions import KeycloakConnectionError, KeycloakGetError

from keycloak_duo_bridge.admin import keycloak as keycloak_module
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.errors import KeycloakUnreachableError


class SlowDelete:
    """Keycloak as a busy node answers a realm delete: the read times out, the delete goes on
    (a fault a real Keycloak cannot be made to produce on demand)."""

    def __init__(self, *, gone_after_reads: int | None) -> None:
        self.gone_after_reads = gone_after_reads
        self.reads = 0

    def delete_realm(self, realm: str) -> None:
        raise KeycloakConnectionError(f"read timed out deleting {realm}")

    def get_realm(self, realm: str) -> dict[str, Any]:
        self.reads += 1
        if self.gone_after_reads is not None and self.reads > self.gone_after_reads:
            raise KeycloakGetError(b'{"error":"Realm not found."}', response_code=404)
        return {"realm": realm}


def _keycloak(fake: SlowDelete) -> Keycloak:
    return Keycloak(cast("KeycloakAdmin", fake), url="http://kc.test", username="admin")


@pytest.fixture(autouse=True)
def _no_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keycloak_module, "DELETE_POLL_SECONDS", 0.0)


def test_a_timed_out_delete_returns_once_the_realm_is_gone() -> None:
    """A delete whose answer timed out returns when reads show the realm gone."""
    fake = SlowDelete(gone_after_reads=2)
    _keycloak(fake).delete_realm("slow", settle_seconds=5)
    assert fake.reads == 3


def test_a_delete_that_never_finishes_says_so() -> None:
    """A realm still there after the settle time is a clear error that says to run again."""
    fake = SlowDelete(gone_after_reads=None)
    with pytest.raises(KeycloakUnreachableError, match="did not finish deleting realm 'slow'"):
        _keycloak(fake).delete_realm("slow", settle_seconds=0)
    assert fake.reads == 1
