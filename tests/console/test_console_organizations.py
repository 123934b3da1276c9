"""The console's pages of clients kept as organizations, against the sandbox Keycloak: what a
partner's admin sees and changes, and the refusals to everyone else.

People sign in with Playwright (the real Keycloak login), then send raw requests with the
session cookie, as in ``test_console_http.py``.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import console_client, organizations, tenants
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.admin.organizations import Organization
from keycloak_duo_bridge.console.state import ADMIN
from keycloak_duo_bridge.duo.auth_protocol import AuthApiCredentials
from keycloak_duo_bridge.envelope import DecryptionError
from keycloak_duo_bridge.sandbox import provision
from keycloak_duo_bridge.settings import key_ring
from tests.fixtures_bridge import APP2_ID, APP_ID, PASSWORD
from tests.fixtures_console import (
    Browserless,
    Provider,
    axe_violations,
    location,
    sign_in,
    sign_in_as_master,
)

pytestmark = [pytest.mark.keycloak, pytest.mark.browser]


@dataclass
class OrgSetup:
    """The provider's partner holding client organization ``org`` and both demo apps."""

    provider: Provider
    org: Organization
    keycloak: Keycloak

    @property
    def url(self) -> str:
        return f"/admin/tenants/{self.provider.partner}/organizations/{self.org.name}"

    def stored(self) -> dict[str, str]:
        """The organization's attributes as Keycloak holds them now."""
        found = organizations.get_organization(self.keycloak, self.org.partner, self.org.name)
        return dict(found.attributes)


@pytest.fixture
def org_setup(provider: Provider, admin_keycloak: Keycloak) -> OrgSetup:
    """Client organization ``po-…`` of the provider's partner, Duo not set up."""
    for app in (APP_ID, APP2_ID):
        provision.ensure_app(provider.settings, provider.partner, app, provider.redirect_uri)
    name = f"po-{uuid.uuid4().hex[:8]}"
    org = organizations.create_organization(
        admin_keycloak, name, partner=provider.partner, display_name=f"Org {name[3:]}"
    )
    return OrgSetup(provider, org, admin_keycloak)


@pytest.fixture
def other_partner(admin_keycloak: Keycloak, provider: Provider) -> Iterator[str]:
    """A second partner ``pq-…`` with its own admin ``qadmin``, organizations off."""
    name = f"pq-{uuid.uuid4().hex[:8]}"
    tenants.create_partner(admin_keycloak, name)
    console_client.ensure(admin_keycloak, name, provider.bridge.url)
    provision.ensure_realm_admin(provider.settings, name, "qadmin", PASSWORD)
    yield name
    tenants.delete_tenant(admin_keycloak, name)


def changes_refused(user: Browserless, url: str, status: int, setup: OrgSetup) -> None:
    """Every form of the organization's page at ``url`` answers ``status``; nothing changes."""
    before = setup.stored()
    creds = setup.provider.integration
    forms = {
        "/duo/enabled": {"enabled": "off"},
        "/duo/credentials": {
            "ikey": creds.client_id,
            "skey": creds.client_secret,
            "api_host": creds.api_host,
            "allow_unverified": "yes",
        },
        "/duo/credentials/clear": {},
        "/duo/test": {},
        "/duo/policy": {"user_mode": "opt-in"},
        "/duo/auth-api": {"authapi_ikey": creds.client_id, "authapi_skey": creds.client_secret},
        "/duo/auth-api/clear": {},
        f"/apps/{APP_ID}": {"mode": "off"},
    }
    for path, data in forms.items():
        answer = user.post(url + path, data)
        assert answer.status_code == status, (path, answer.text)
        assert creds.client_secret not in answer.text
    assert user.get(url).status_code == status
    assert setup.stored() == before


def test_partner_admin_manages_a_client_organization(
    page: Page, org_setup: OrgSetup, caplog: pytest.LogCaptureFixture
) -> None:
    """The partner's admin sets, tests and clears an organization's Duo; no skey is shown."""
    caplog.set_level(logging.INFO)
    provider, url = org_setup.provider, org_setup.url
    admin = sign_in(page, provider.bridge, ADMIN, provider.partner, provider.admin_user)
    home = admin.get("/admin/").text
    assert f'href="{url}"' in home
    assert "client organization" in home
    shown = admin.get(url)
    assert shown.status_code == 200
    assert f"<h1>{org_setup.org.display_name}</h1>" in shown.text
    assert f"organization <code>{org_setup.org.name}</code>" in shown.text
    assert "No secret key stored." in shown.text  # its own Auth API keys: none yet
    misnamed = f"/admin/tenants/{provider.partner}/organizations/{'x' * 300}"
    assert admin.get(misnamed).status_code == 404
    no_keys = admin.post(f"{url}/duo/enabled", {"enabled": "on"})
    assert (no_keys.status_code, "no Duo credentials" in no_keys.text) == (400, True)

    creds = provider.integration
    typed = {"ikey": creds.client_id, "skey": creds.client_secret, "api_host": creds.api_host}
    saved = admin.post(f"{url}/duo/credentials", typed)
    assert location(saved).endswith(f"{url}?notice=credentials")
    stored = org_setup.stored()
    assert stored[attr.DUO_IKEY] == creds.client_id
    assert creds.client_secret not in str(stored)
    ring = key_ring(provider.settings)
    opened = ring.decrypt(stored[attr.DUO_SKEY], realm=org_setup.org.scope, attribute=attr.DUO_SKEY)
    assert opened == creds.client_secret  # sealed for the organization, not the realm
    with pytest.raises(DecryptionError):
        ring.decrypt(stored[attr.DUO_SKEY], realm=provider.partner, attribute=attr.DUO_SKEY)
    tested = admin.get(location(admin.post(f"{url}/duo/test", {"skey": ""})))
    assert "<strong>Works:</strong>" in tested.text

    assert location(admin.post(f"{url}/duo/enabled", {"enabled": "on"})).endswith("=switched")
    assert location(admin.post(f"{url}/duo/policy", {"user_mode": "opt-in"})).endswith("=policy")
    assert location(admin.post(f"{url}/apps/{APP2_ID}", {"mode": "required"})).endswith("=app")
    assert admin.post(f"{url}/apps/no-such-app", {"mode": "off"}).status_code == 400
    stored = org_setup.stored()
    assert (stored[attr.DUO_ENABLED], stored[attr.DUO_USER_MODE]) == ("true", "opt-in")
    assert json.loads(stored[attr.DUO_APPS]) == {APP2_ID: "required"}
    page_now = admin.get(url).text
    assert re.findall(r'name="enabled" value="(\w+)"\s*checked', page_now) == ["on"]
    assert "Duo for users who activated it" in page_now
    assert "Remove credentials" in page_now

    cleared = admin.post(f"{url}/duo/credentials/clear")
    assert location(cleared).endswith("=credentials_cleared")
    assert attr.DUO_SKEY not in org_setup.stored()
    audited = [r.__dict__["fields"] for r in caplog.records if r.getMessage() == "admin change"]
    assert {(f["realm"], f["organization"], f["via"]) for f in audited} == {
        (provider.partner, org_setup.org.name, "console")
    }
    for text in (shown.text, tested.text, page_now, caplog.text, str(audited)):
        assert creds.client_secret not in text


def test_partner_admin_sets_an_organizations_auth_api_keys(
    page: Page, org_setup: OrgSetup, auth_api_creds: AuthApiCredentials
) -> None:
    """The partner's admin saves an organization's own Auth API keys, checked with Duo and
    the skey sealed for the organization (never shown), then removes them."""
    provider, url, push = org_setup.provider, org_setup.url, auth_api_creds
    admin = sign_in(page, provider.bridge, ADMIN, provider.partner, provider.admin_user)
    keys = {"authapi_ikey": push.ikey, "authapi_skey": push.skey, "authapi_host": push.api_host}
    assert location(admin.post(f"{url}/duo/auth-api", keys)).endswith("=auth_api")
    sealed = org_setup.stored()[attr.AUTH_API_SKEY]
    ring = key_ring(provider.settings)
    opened = ring.decrypt(sealed, realm=org_setup.org.scope, attribute=attr.AUTH_API_SKEY)
    assert opened == push.skey
    shown = admin.get(url).text
    assert "A secret key is stored; it is never shown." in shown
    assert push.skey not in shown
    gone = admin.post(f"{url}/duo/auth-api/clear")
    assert location(gone).endswith("=auth_api_cleared")
    assert attr.AUTH_API_SKEY not in org_setup.stored()


def test_master_admin_sees_client_organizations(page: Page, org_setup: OrgSetup) -> None:
    """A master admin's tree lists the organization under its partner, and opens its page."""
    provider = org_setup.provider
    master = sign_in_as_master(page, provider.bridge, provider.bridge.settings)
    assert f'href="{org_setup.url}"' in master.get("/admin/").text
    assert master.get(org_setup.url).status_code == 200


def test_client_realm_admin_cannot_reach_the_partners_organization(
    page: Page, org_setup: OrgSetup
) -> None:
    """An admin of a client realm neither sees, opens nor changes the partner's organization."""
    provider = org_setup.provider
    provision.ensure_realm_admin(provider.settings, provider.client, "cadmin", PASSWORD)
    cadmin = sign_in(page, provider.bridge, ADMIN, provider.client, "cadmin")
    assert org_setup.org.name not in cadmin.get("/admin/").text
    changes_refused(cadmin, org_setup.url, 403, org_setup)
    own_realm = f"/admin/tenants/{provider.client}/organizations/{org_setup.org.name}"
    assert cadmin.get(own_realm).status_code == 404  # a client realm holds no organizations


def test_other_partners_admin_cannot_reach_the_organization(
    page: Page, org_setup: OrgSetup, other_partner: str
) -> None:
    """Partner B's admin is refused A's organization, also through a URL naming it under B."""
    qadmin = sign_in(page, org_setup.provider.bridge, ADMIN, other_partner, "qadmin")
    assert org_setup.org.name not in qadmin.get("/admin/").text
    changes_refused(qadmin, org_setup.url, 403, org_setup)
    forged = f"/admin/tenants/{other_partner}/organizations/{org_setup.org.name}"
    changes_refused(qadmin, forged, 404, org_setup)


def test_organization_member_who_is_no_admin_is_refused(
    page: Page, org_setup: OrgSetup, admin_keycloak: Keycloak
) -> None:
    """A member of the organization without admin roles manages nothing, not even it."""
    provider = org_setup.provider
    provision.ensure_user(provider.settings, provider.partner, "member", PASSWORD)
    organizations.add_member(admin_keycloak, org_setup.org, "member")
    member = sign_in(page, provider.bridge, ADMIN, provider.partner, "member")
    assert "You may not manage any realm." in member.get("/admin/").text
    changes_refused(member, org_setup.url, 403, org_setup)


def test_switching_an_organizations_duo_on_in_the_browser(page: Page, org_setup: OrgSetup) -> None:
    """In Chromium the partner's admin switches the organization's Duo on (axe-clean page)."""
    provider = org_setup.provider
    creds = provider.integration
    organizations.set_credentials(
        org_setup.keycloak,
        org_setup.org,
        ikey=creds.client_id,
        skey=creds.client_secret,
        api_host=creds.api_host,
        ring=key_ring(provider.settings),
        health=None,
    )
    sign_in(page, provider.bridge, ADMIN, provider.partner, provider.admin_user)
    page.goto(f"{provider.bridge.url}/admin/")
    page.click(f'a[href="{org_setup.url}"]')
    assert axe_violations(page) == []
    page.check('input[name="enabled"][value="on"]')
    page.click("text=Save switch")
    assert page.locator('p[role="status"]').inner_text() == "The Duo switch is saved."
    assert org_setup.stored()[attr.DUO_ENABLED] == "true"
    assert creds.client_secret not in page.content()
