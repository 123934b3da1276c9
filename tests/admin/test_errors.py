"""Keycloak errors become one-line messages from our tree; nothing half-written."""

from __future__ import annotations

import uuid

import pytest
import requests
from keycloak import KeycloakAdmin

from keycloak_duo_bridge.admin import tenants
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.errors import (
    KeycloakAuthError,
    KeycloakError,
    KeycloakForbiddenError,
    KeycloakUnreachableError,
    NotFoundError,
)
from keycloak_duo_bridge.sandbox.ports import free_port
from keycloak_duo_bridge.settings import Settings

pytestmark = pytest.mark.keycloak


def test_unreachable(admin_settings: Settings) -> None:
    """No Keycloak on the port: KeycloakUnreachableError naming the URL."""
    url = f"http://127.0.0.1:{free_port()}"
    kc = Keycloak.from_settings(admin_settings.model_copy(update={"keycloak_url": url}), timeout=3)
    with pytest.raises(KeycloakUnreachableError, match=f"Keycloak at {url} is unreachable"):
        kc.get_realms()


def test_bad_credentials(admin_settings: Settings) -> None:
    """A wrong admin password: KeycloakAuthError, without the password in the message."""
    from pydantic import SecretStr  # noqa: PLC0415

    bad = admin_settings.model_copy(update={"keycloak_admin_password": SecretStr("wrong-pw-123")})
    with pytest.raises(KeycloakAuthError, match="rejected the admin credentials") as caught:
        Keycloak.from_settings(bad).get_realms()
    assert "wrong-pw-123" not in str(caught.value)


def test_insufficient_rights(
    kc: Keycloak, keycloak_admin: KeycloakAdmin, admin_settings: Settings
) -> None:
    """A master user without admin roles: KeycloakForbiddenError."""
    username = f"weak-{uuid.uuid4().hex[:6]}"
    keycloak_admin.change_current_realm("master")
    keycloak_admin.create_user(
        {
            "username": username,
            "enabled": True,
            "firstName": "W",
            "lastName": "K",
            "email": f"{username}@example.test",
            "credentials": [{"type": "password", "value": "pw-weak-1", "temporary": False}],
        }
    )
    from pydantic import SecretStr  # noqa: PLC0415

    weak = admin_settings.model_copy(
        update={
            "keycloak_admin_username": username,
            "keycloak_admin_password": SecretStr("pw-weak-1"),
        }
    )
    with pytest.raises(KeycloakForbiddenError, match=f"admin user '{username}' lacks the rights"):
        tenants.create_partner(Keycloak.from_settings(weak), f"nope-{uuid.uuid4().hex[:6]}")


def test_unknown_realm(kc: Keycloak) -> None:
    """An unknown realm is named."""
    with pytest.raises(NotFoundError, match="realm 'no-such-realm' does not exist"):
        tenants.get_tenant(kc, "no-such-realm")
    assert kc.find_realm("no-such-realm") is None


def test_conflict_and_refusals(kc: Keycloak) -> None:
    """Keycloak's own refusals keep their code and message, on one line."""
    with pytest.raises(KeycloakError, match="conflict: cannot create realm 'master'"):
        kc.create_realm({"realm": "master"})
    with pytest.raises(KeycloakError, match=r"HTTP 400"):
        kc.create_realm({"realm": "x", "frontendUrl": "not a field"})


def test_unexpected_response_type(kc: Keycloak, monkeypatch: pytest.MonkeyPatch) -> None:
    """python-keycloak's TypeError on an odd answer becomes a KeycloakError."""

    def odd(self: KeycloakAdmin) -> list[object]:
        raise TypeError("Unexpected response type")

    monkeypatch.setattr(KeycloakAdmin, "get_realms", odd)
    with pytest.raises(KeycloakError, match="unexpected answer from Keycloak"):
        kc.get_realms()


def test_transport_failure_midway(kc: Keycloak, monkeypatch: pytest.MonkeyPatch) -> None:
    """A connection dropped on a write is reported as unreachable (injected fault)."""

    def drop(*args: object, **kwargs: object) -> None:
        raise requests.ConnectionError("reset")

    kc.get_realms()
    monkeypatch.setattr(kc._admin.connection._s, "put", drop)
    with pytest.raises(KeycloakUnreachableError):
        kc.update_realm("master", {})
