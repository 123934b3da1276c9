"""Organization boundaries against the real Keycloak: each attack on a client organization is
made with exactly the rights it assumes, and refused.

A ``manage-users`` or ``manage-clients`` administrator of the partner realm tries to write an
organization's Duo attributes; a user attribute and a client attribute claim an organization;
a sealed skey is copied from one organization to another; a member of a strict and a lax
organization selects the lax one at login.
"""

from __future__ import annotations

import uuid

import httpx2
import pytest
from playwright.sync_api import Page

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import apps, organizations
from keycloak_duo_bridge.admin.effective import single_values
from keycloak_duo_bridge.sandbox import provision
from tests.browser_steps import tokens_for
from tests.fixtures_bridge import APP2_ID, APP_ID, PASSWORD
from tests.fixtures_organizations import Partner, duo_ikeys, sign_in, sign_in_selecting

pytestmark = [pytest.mark.keycloak, pytest.mark.browser]


def lesser_admin(org_partner: Partner, role: str) -> httpx2.Client:
    """An administrator of the partner realm holding only ``role`` of realm-management."""
    tenant = org_partner.tenant
    admin = tenant.admin()
    name = f"{role}-{uuid.uuid4().hex[:6]}"
    user_id = provision.ensure_user(tenant.settings, tenant.realm, name, PASSWORD)
    management = admin.get_client_id("realm-management")
    assert management is not None
    admin.assign_client_role(user_id, management, [admin.get_client_role(management, role)])
    # Duo is on for the realm: its step-up (a browser step) would block this password grant
    apps.set_mode(org_partner.keycloak, tenant.realm, "admin-cli", "off")
    base = tenant.settings.keycloak_url
    token = httpx2.post(
        f"{base}/realms/{tenant.realm}/protocol/openid-connect/token",
        data={
            "grant_type": "password",
            "client_id": "admin-cli",
            "username": name,
            "password": PASSWORD,
        },
    )
    assert token.status_code == 200, token.text
    return httpx2.Client(
        base_url=f"{base}/admin/realms/{tenant.realm}",
        headers={"Authorization": f"Bearer {token.json()['access_token']}"},
    )


@pytest.mark.parametrize("role", ["manage-users", "manage-clients"])
def test_a_lesser_admin_cannot_write_an_organizations_duo_settings(
    org_partner: Partner, role: str
) -> None:
    """A manage-users or manage-clients admin's write of an organization's Duo attributes, and
    of its membership, is refused by Keycloak; the attributes stay as they were."""
    org, _ = org_partner.organization(f"org-{uuid.uuid4().hex[:6]}")
    with lesser_admin(org_partner, role) as attacker:
        attack(org_partner, org, attacker)


def attack(org_partner: Partner, org: organizations.Organization, attacker: httpx2.Client) -> None:
    before = org_partner.keycloak.get_organization(org_partner.tenant.realm, org.id)
    changed = {**before, "attributes": {**before["attributes"], attr.DUO_ENABLED: ["false"]}}
    assert attacker.put(f"/organizations/{org.id}", json=changed).status_code == 403
    user_id = provision.ensure_user(
        org_partner.tenant.settings, org_partner.tenant.realm, "joiner", PASSWORD
    )
    joined = attacker.post(f"/organizations/{org.id}/members", content=user_id)
    assert joined.status_code == 403
    after = org_partner.keycloak.get_organization(org_partner.tenant.realm, org.id)
    assert single_values(after) == single_values(before)


def test_attributes_claiming_an_organization_give_none_of_its_settings(
    page: Page, org_partner: Partner
) -> None:
    """A user attribute and a client attribute naming an organization (its id, Keycloak's
    own note name, our kind) do not make a non-member use its Duo integration."""
    tenant = org_partner.tenant
    org, integration = org_partner.organization(f"org-{uuid.uuid4().hex[:6]}")
    user_id = tenant.user("claire")
    admin = tenant.admin()
    claims = {"kc.org": [org.id], "org": [org.id], attr.TENANT_KIND: ["client"]}
    user = admin.get_user(user_id)
    admin.update_user(user_id, {**user, "attributes": {**(user.get("attributes") or {}), **claims}})
    client = admin.get_client_id(APP_ID)
    assert client is not None
    admin.update_client(client, {"attributes": {"kc.org": org.id, "org": org.id}})
    seen = duo_ikeys(page, tenant)
    sign_in(page, tenant, "claire")
    assert tokens_for(page, tenant)["duo"]["result"] == "allow"  # type: ignore[index]
    assert seen == [tenant.integration.client_id]
    assert integration.client_id not in seen


def test_a_sealed_skey_copied_to_another_organization_does_not_open(
    page: Page, org_partner: Partner
) -> None:
    """An administrator copies one organization's Duo credentials, skey ciphertext included,
    onto another: its member's login is refused as misconfigured, and no Duo prompt opens."""
    tenant = org_partner.tenant
    keycloak = org_partner.keycloak
    source, _ = org_partner.organization(f"org-{uuid.uuid4().hex[:6]}")
    target = organizations.create_organization(
        keycloak, f"org-{uuid.uuid4().hex[:6]}", partner=tenant.realm
    )
    source = organizations.get_organization(keycloak, tenant.realm, source.name)
    copied = {
        name: source.attributes[name] for name in (attr.DUO_IKEY, attr.DUO_API_HOST, attr.DUO_SKEY)
    }
    organizations.store(keycloak, target, copied)  # the record too: only the seal is wrong
    tenant.user("cody")
    organizations.add_member(keycloak, target, "cody")
    seen = duo_ikeys(page, tenant)
    sign_in(page, tenant, "cody")
    page.get_by_text("misconfigured").wait_for()
    assert seen == []
    [error] = tenant.events("CUSTOM_REQUIRED_ACTION_ERROR")
    assert error["error"] == "duo_config_fault"


def test_selecting_a_lax_organization_escapes_no_other_organizations_duo(
    page: Page, org_partner: Partner
) -> None:
    """A member of two client organizations picks, on Keycloak's selection page, the one
    that leaves an application's Duo off: Duo still runs, as the other requires it there,
    with the selected one's integration."""
    tenant = org_partner.tenant
    lax, integration = org_partner.organization(f"lax-{uuid.uuid4().hex[:6]}")
    strict, _ = org_partner.organization(f"strict-{uuid.uuid4().hex[:6]}")
    organizations.set_app_mode(org_partner.keycloak, strict, APP2_ID, "required")
    tenant.user("sven")
    organizations.add_member(org_partner.keycloak, lax, "sven")
    organizations.add_member(org_partner.keycloak, strict, "sven")
    seen = duo_ikeys(page, tenant)
    # the attack: selecting the organization that lets the login pass without Duo
    sign_in_selecting(page, tenant, "sven", lax.name, client_id=APP2_ID)
    claims = tokens_for(page, tenant, APP2_ID)
    assert claims["duo"]["result"] == "allow"  # type: ignore[index]
    assert seen == [integration.client_id]
