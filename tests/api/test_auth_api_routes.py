"""The admin API's Auth API credentials (#16): checked live, stored sealed, guarded like
every realm operation, cleared; on the sandbox with the emulator."""

from __future__ import annotations

import pytest

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.duo.auth_protocol import AuthApiCredentials
from keycloak_duo_bridge.settings import Settings
from tests.api.conftest import Call, Fleet

pytestmark = pytest.mark.keycloak


def test_set_checks_and_seals_then_clear(
    call: Call, fleet: Fleet, stack_settings: Settings, auth_api_creds: AuthApiCredentials
) -> None:
    """A client's admin stores checked credentials (skey sealed); a wrong skey or an
    unreachable host saves nothing; another realm is forbidden; DELETE clears them."""
    path = f"/tenants/{fleet.c}/duo/auth-api"
    body = {
        "ikey": auth_api_creds.ikey,
        "skey": auth_api_creds.skey,
        "api_host": auth_api_creds.api_host,
    }
    wrong = call("client-admin", "PUT", path, json={**body, "skey": "w" * 40})
    assert wrong.status_code == 400
    assert "Duo rejected the Auth API credentials, nothing saved" in wrong.json()["error"]
    down = call("client-admin", "PUT", path, json={**body, "api_host": "localhost:1"})
    assert down.status_code == 502
    assert "nothing saved" in down.json()["error"]
    forbidden = call("client-admin", "PUT", f"/tenants/{fleet.q}/duo/auth-api", json=body)
    assert forbidden.status_code == 403
    saved = call("client-admin", "PUT", path, json=body)
    assert (saved.status_code, saved.json()) == (200, {"realm": fleet.c, "written": True})
    stored = Keycloak.from_settings(stack_settings).get_realm(fleet.c)["attributes"]
    assert stored[attr.AUTH_API_IKEY] == auth_api_creds.ikey
    assert stored[attr.AUTH_API_SKEY].startswith("kdb1:")
    assert auth_api_creds.skey not in saved.text
    cleared = call("client-admin", "DELETE", path)
    assert cleared.json() == {"realm": fleet.c, "written": True}
