"""The bridge's service account reads the realms it was granted, and can change nothing."""

from __future__ import annotations

import httpx2
import pytest
from pydantic import SecretStr

from keycloak_duo_bridge.bridge.realms import RealmSource
from keycloak_duo_bridge.errors import KeycloakError, KeycloakForbiddenError
from keycloak_duo_bridge.sandbox import provision
from keycloak_duo_bridge.settings import Settings
from tests.aio import run
from tests.fixtures_bridge import TenantFactory

pytestmark = pytest.mark.keycloak


def test_least_privilege_view_realm_reads_and_nothing_more(
    duo_tenant: TenantFactory, stack_settings: Settings
) -> None:
    """view-realm of the tenant's realms reads their settings; other realms and writes fail."""
    tenant, other = duo_tenant(), duo_tenant()
    client_id, secret = provision.ensure_bridge_reader(
        stack_settings, [tenant.partner, tenant.realm]
    )
    reader = stack_settings.model_copy(
        update={"bridge_client_id": client_id, "bridge_client_secret": SecretStr(secret)}
    )

    async def work() -> str | None:
        async with httpx2.AsyncClient() as http:
            source = RealmSource(reader, http)
            effective = await source.effective(tenant.realm, "f")
            # Keycloak gives the name only; that is an error, never "no attributes, Duo off"
            with pytest.raises(KeycloakForbiddenError, match="may not view realm"):
                await source.effective(other.realm, "f")
            token = await source._admin_token(refresh=False)
            url = f"{reader.keycloak_url}/admin/realms/{tenant.realm}"
            write = await http.put(
                url, json={"enabled": False}, headers={"Authorization": f"Bearer {token}"}
            )
            assert write.status_code == 403
            return effective.credentials.realm

    assert run(work()) == tenant.realm
    with pytest.raises(KeycloakError, match="no no-such-realm-realm client"):
        provision.ensure_bridge_reader(stack_settings, ["no-such-realm"])
