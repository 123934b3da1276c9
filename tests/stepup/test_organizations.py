"""Logins by members of a client organization, in Chromium, on real Keycloak: the member gets
the organization's Duo integration and application modes, anyone else the partner's."""

from __future__ import annotations

import re
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import organizations
from keycloak_duo_bridge.bridge.tokens import MAX_TOKEN_LENGTH
from tests.browser_steps import auth_url, tokens_for
from tests.fixtures_bridge import APP2_ID
from tests.fixtures_organizations import Partner, duo_ikeys, sign_in, sign_in_selecting

pytestmark = [pytest.mark.keycloak, pytest.mark.browser]


def test_a_member_gets_the_organizations_duo_and_others_the_partners(
    page: Page, org_partner: Partner
) -> None:
    """A member passes Duo with the organization's integration; a user in no organization
    with the partner's. The organization requires Duo for an application the partner has off:
    its members pass Duo there, other users do not."""
    tenant = org_partner.tenant
    org, integration = org_partner.organization(f"org-{uuid.uuid4().hex[:6]}")
    organizations.set_app_mode(org_partner.keycloak, org, APP2_ID, "required")
    tenant.user("mona")
    tenant.user("nick")
    organizations.add_member(org_partner.keycloak, org, "mona")
    seen = duo_ikeys(page, tenant)

    sign_in(page, tenant, "mona")
    assert tokens_for(page, tenant)["duo"]["result"] == "allow"  # type: ignore[index]
    assert seen == [integration.client_id]
    page.goto(auth_url(tenant))  # the session's pass counts (the organization's record is
    tokens_for(page, tenant)  # current: a stale one would fail closed and ask Duo again)
    assert seen == [integration.client_id]
    page.context.clear_cookies()
    sign_in(page, tenant, "nick")
    assert tokens_for(page, tenant)["duo"]["result"] == "allow"  # type: ignore[index]
    assert seen[1:] == [tenant.integration.client_id]

    page.context.clear_cookies()
    sign_in(page, tenant, "nick", client_id=APP2_ID)
    assert "duo" not in tokens_for(page, tenant, APP2_ID)
    assert len(seen) == 2
    page.context.clear_cookies()
    sign_in(page, tenant, "mona", client_id=APP2_ID)
    assert tokens_for(page, tenant, APP2_ID)["duo"]["result"] == "allow"  # type: ignore[index]
    assert seen[2:] == [integration.client_id]


def test_a_member_of_two_organizations_with_none_selected_is_refused(
    page: Page, org_partner: Partner
) -> None:
    """A member of two client organizations, with none selected by Keycloak, is refused with
    the reason; no organization is picked for them."""
    tenant = org_partner.tenant
    org_partner.member_of_two("olga")
    seen = duo_ikeys(page, tenant)
    sign_in(page, tenant, "olga")
    page.get_by_text("belongs to several organizations").wait_for()
    assert seen == []
    [error] = tenant.events("CUSTOM_REQUIRED_ACTION_ERROR")
    assert error["error"] == "duo_organization_ambiguous"


def test_a_member_of_two_organizations_gets_the_one_keycloak_selected(
    page: Page, org_partner: Partner
) -> None:
    """A member of two client organizations who picks one on Keycloak's organization
    selection page (the app asked for the organization scope) passes Duo with that
    organization's integration, not the other's."""
    tenant = org_partner.tenant
    _, second, integration = org_partner.member_of_two("rita")
    seen = duo_ikeys(page, tenant)
    sign_in_selecting(page, tenant, "rita", second.name)
    assert tokens_for(page, tenant)["duo"]["result"] == "allow"  # type: ignore[index]
    assert seen == [integration.client_id]


def test_a_selected_organization_holds_for_the_sso_session(
    page: Page, org_partner: Partner
) -> None:
    """A member of two client organizations who selected one is not asked again, nor
    refused, when a later login continues the SSO session (Keycloak asks no one there): the
    pass is remembered; once the other organization remembers none, Duo runs again, with the
    selected one's integration."""
    tenant = org_partner.tenant
    first, second, integration = org_partner.member_of_two("sina")
    seen = duo_ikeys(page, tenant)
    sign_in_selecting(page, tenant, "sina", second.name)
    tokens_for(page, tenant)
    page.goto(auth_url(tenant))  # the SSO session continues
    assert tokens_for(page, tenant)["duo"]["result"] == "allow"  # type: ignore[index]
    assert seen == [integration.client_id]
    organizations.store(org_partner.keycloak, first, {attr.DUO_REMEMBER: "every-login"})
    page.goto(auth_url(tenant))
    assert tokens_for(page, tenant)["duo"]["result"] == "allow"  # type: ignore[index]
    assert seen == [integration.client_id, integration.client_id]


def request_lengths(page: Page) -> list[int]:
    """The length of each request token the page carries to the bridge's step-up."""
    seen: list[int] = []

    def note(url: str) -> None:
        parts = urlsplit(url)
        if parts.path.endswith("/step-up"):
            seen.extend(len(token) for token in parse_qs(parts.query).get("request", []))

    page.on("request", lambda r: note(r.url))
    return seen


def test_a_member_of_too_many_organizations_is_refused_with_the_reason(
    page: Page, org_partner: Partner
) -> None:
    """A member of so many client organizations that the request token would pass the
    bridge's limit is refused by Keycloak with the reason, never sent on to the bridge (so
    it fails closed, and says why); each membership adds its id and fingerprint, and at
    least 40 fit."""
    tenant = org_partner.tenant
    _, second, _ = org_partner.member_of_two("tara")
    lengths = request_lengths(page)
    sign_in_selecting(page, tenant, "tara", second.name)
    assert tokens_for(page, tenant)["duo"]["result"] == "allow"  # type: ignore[index]
    added = 78
    for _ in range(added):
        more = organizations.create_organization(
            org_partner.keycloak, f"org-{uuid.uuid4().hex[:6]}", partner=tenant.realm
        )
        organizations.add_member(org_partner.keycloak, more, "tara")
    page.context.clear_cookies()
    sign_in_selecting(page, tenant, "tara", second.name)
    page.get_by_text("too many organizations").wait_for()
    assert len(lengths) == 1
    [error] = tenant.events("CUSTOM_REQUIRED_ACTION_ERROR")
    assert error["error"] == "duo_request_too_large"
    found = re.fullmatch(
        r"the request token is (\d+) characters, over the bridge's 8192",
        error["details"]["duo_reason"],
    )
    assert found is not None
    each = (int(found.group(1)) - lengths[0]) / added
    assert 100 < each < 130  # an id and a fingerprint in JSON, base64url-encoded
    assert 2 + (MAX_TOKEN_LENGTH - lengths[0]) // each >= 40
