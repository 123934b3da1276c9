"""CIBA for members of client organizations, on the real sandbox Keycloak: a member's Duo
Push goes through the organization's own Auth API application, a user of no organization
through the partner's, and a member of several client organizations is refused."""

from __future__ import annotations

import logging
import uuid

import httpx2
import pytest

from keycloak_duo_bridge.admin import organizations
from keycloak_duo_bridge.duo.auth_protocol import AuthApiCredentials
from keycloak_duo_bridge.emulator import RunningEmulator
from keycloak_duo_bridge.serving import ServerThread
from keycloak_duo_bridge.settings import key_ring
from tests.fixtures_ciba import CibaTenant, with_ciba
from tests.fixtures_organizations import Partner

pytestmark = pytest.mark.keycloak


@pytest.fixture
def ciba_partner(
    ciba_bridge: ServerThread, org_partner: Partner, auth_api_creds: AuthApiCredentials
) -> CibaTenant:
    """The partner realm of client organizations, ready for CIBA with its own Auth API."""
    del ciba_bridge  # only needs to be running
    return with_ciba(org_partner.tenant, org_partner.keycloak, auth_api_creds)


def _denied(answer: httpx2.Response) -> bool:
    return answer.status_code == 400 and answer.json().get("error") == "access_denied"


def _name() -> str:
    return f"ciba-{uuid.uuid4().hex[:12]}"


def test_a_member_is_pushed_through_the_organizations_auth_api(
    ciba_partner: CibaTenant, org_partner: Partner, duo_emulator: RunningEmulator
) -> None:
    """A member's push uses the organization's Auth API credentials (pointed at a Duo that
    is down, the member is refused and nothing is pushed), whatever other organization that
    is no client the member is in; a user of no organization is pushed through the
    partner's and gets tokens."""
    org, _ = org_partner.organization(f"org-{uuid.uuid4().hex[:6]}")
    api = duo_emulator.control.add_api_credentials("authapi")
    ring = key_ring(org_partner.tenant.settings)
    own = AuthApiCredentials(api.ikey, api.skey, api.api_host)
    organizations.set_auth_api(org_partner.keycloak, org, creds=own, ring=ring, check=None)
    member, outsider = _name(), _name()
    member_id = ciba_partner.user(member)
    ciba_partner.user(outsider)
    organizations.add_member(org_partner.keycloak, org, member)
    admin = org_partner.tenant.admin()  # and of an organization that is no client
    plain = admin.create_organization({"name": _name(), "domains": [{"name": f"{_name()}.test"}]})
    admin.organization_user_add(member_id, str(plain))

    duo_emulator.control.script_push(member, "approve", delay=0.5)
    assert ciba_partner.login(member).status_code == 200
    down = AuthApiCredentials(api.ikey, api.skey, "localhost:1")
    found = organizations.get_organization(org_partner.keycloak, org.partner, org.name)
    organizations.set_auth_api(org_partner.keycloak, found, creds=down, ring=ring, check=None)
    assert _denied(ciba_partner.login(member))
    assert len(duo_emulator.control.pushes(member)) == 1
    duo_emulator.control.script_push(outsider, "approve", delay=0.5)
    assert ciba_partner.login(outsider).status_code == 200


def test_a_member_of_two_client_organizations_is_refused_without_a_push(
    ciba_partner: CibaTenant,
    org_partner: Partner,
    duo_emulator: RunningEmulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """CIBA has no organization selection: a member of two client organizations is refused
    with the reason logged, and no organization's Duo is pushed."""
    first, _ = org_partner.organization(f"org-{uuid.uuid4().hex[:6]}")
    second, _ = org_partner.organization(f"org-{uuid.uuid4().hex[:6]}")
    name = _name()
    ciba_partner.user(name)
    organizations.add_member(org_partner.keycloak, first, name)
    organizations.add_member(org_partner.keycloak, second, name)
    with caplog.at_level(logging.INFO, logger="keycloak_duo_bridge.ciba"):
        assert _denied(ciba_partner.login(name))
    assert "ciba organization ambiguous" in [r.getMessage() for r in caplog.records]
    assert duo_emulator.control.pushes(name) == []
