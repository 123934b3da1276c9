"""The headless login walker says where and why a login stopped."""

from __future__ import annotations

import pytest

from keycloak_duo_bridge.duo.client import tls_context
from keycloak_duo_bridge.sandbox.ports import free_port
from keycloak_duo_bridge.sandbox.walk import WalkError, walk_login
from tests.fixtures_bridge import APP_ID, PASSWORD, Tenant, TenantFactory

pytestmark = pytest.mark.keycloak


def walk(tenant: Tenant, username: str, password: str = PASSWORD) -> None:
    walk_login(
        keycloak_url=tenant.settings.keycloak_url,
        realm=tenant.realm,
        client_id=APP_ID,
        redirect_uri=tenant.redirect_uri,
        username=username,
        password=password,
        verify=tls_context(tenant.emulator.ca_path),
    )


def test_wrong_password_is_named(duo_tenant: TenantFactory) -> None:
    """A rejected password stops the walk with Keycloak's own words."""
    tenant = duo_tenant()
    tenant.user("rita")
    with pytest.raises(WalkError, match="Invalid username or password"):
        walk(tenant, "rita", "wrong")


def test_duo_denial_is_named(duo_tenant: TenantFactory) -> None:
    """A login Duo denies stops at Keycloak's error page, which the walker quotes."""
    tenant = duo_tenant()
    tenant.user("sam", behavior="deny")
    with pytest.raises(WalkError, match="Duo denied the sign-in"):
        walk(tenant, "sam")


def test_unreachable_keycloak() -> None:
    """A Keycloak that does not answer is a WalkError naming the failed request."""
    with pytest.raises(WalkError, match=r"GET http://127\.0\.0\.1:.*failed: ConnectError"):
        walk_login(
            keycloak_url=f"http://127.0.0.1:{free_port()}",
            realm="r",
            client_id="c",
            redirect_uri="http://app/cb",
            username="u",
            password="p",
        )
