"""Brokered logins through Duo, on real Keycloak: a second realm is the partner's IdP.

Each path runs over OIDC and over SAML, and asserts the Duo hop (or its absence) and the
name the bridge gave Duo.
"""

from __future__ import annotations

import pytest

from keycloak_duo_bridge.admin import apps
from keycloak_duo_bridge.admin.keycloak import Keycloak
from tests.fixtures_bridge import APP2_ID, APP_ID
from tests.fixtures_federation import (
    BrokerWalkError,
    FederationFactory,
    choose_username,
    link_account,
)

pytestmark = pytest.mark.keycloak

PROTOCOLS = ["oidc", "saml"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_first_broker_login_creates_the_user_and_runs_duo(
    federation: FederationFactory, protocol: str
) -> None:
    """A partner user's first login creates the local user, then Duo runs before the code."""
    fed = federation(protocol)
    fed.partner_user("pat")
    fed.tenant.emulator.control.set_user(fed.duo_name("pat"), behavior="allow", enrolled=True)
    before = fed.last_event()
    walk = fed.login("pat")
    assert walk.duo_hop
    assert walk.id_claims["duo"]["result"] == "allow"
    assert fed.duo_names(before) == [fed.duo_name("pat")]
    [link] = fed.links("pat")
    assert link["identityProvider"] == fed.alias
    assert link["userId"] == fed.subject("pat")


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_later_login_of_the_linked_user_runs_duo_again(
    federation: FederationFactory, protocol: str
) -> None:
    """The linked user's next brokered login (a new browser) passes Duo again, same name."""
    fed = federation(protocol)
    fed.partner_user("pat")
    fed.tenant.emulator.control.set_user(fed.duo_name("pat"), behavior="allow", enrolled=True)
    first = fed.login("pat")
    before = fed.last_event()
    later = fed.login("pat")
    assert later.duo_hop
    assert later.id_claims["sub"] == first.id_claims["sub"]
    assert later.pages == [f"Sign in to {fed.idp_realm}"]  # no first-login form this time
    assert fed.duo_names(before) == [fed.duo_name("pat")]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_linking_to_a_local_user_with_the_same_username_passes_duo_as_that_user(
    federation: FederationFactory, protocol: str
) -> None:
    """The partner's pat links to the local pat after its password, then Duo as pat."""
    fed = federation(protocol)
    local_id = fed.local_user("pat")
    fed.partner_user("pat")
    fed.tenant.emulator.control.set_user("pat", behavior="allow", enrolled=True)
    before = fed.last_event()
    walk = fed.login("pat", answer=link_account)
    assert walk.duo_hop
    assert walk.id_claims["sub"] == local_id
    assert fed.duo_names(before) == ["pat"]
    assert [link["identityProvider"] for link in fed.links("pat")] == [fed.alias]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_linking_to_a_local_user_with_the_same_email_passes_duo_as_that_user(
    federation: FederationFactory, protocol: str
) -> None:
    """The partner's pat links to local patricia (same email): Duo as patricia."""
    fed = federation(protocol)
    local_id = fed.local_user("patricia", email="pat@partner.example")
    fed.partner_user("pat")
    fed.tenant.emulator.control.set_user("patricia", behavior="allow", enrolled=True)
    before = fed.last_event()
    walk = fed.login("pat", answer=link_account)
    assert walk.duo_hop
    assert walk.id_claims["sub"] == local_id
    assert fed.duo_names(before) == ["patricia"]
    assert [link["identityProvider"] for link in fed.links("patricia")] == [fed.alias]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_duo_deny_gives_the_brokered_login_no_code(
    federation: FederationFactory, protocol: str
) -> None:
    """Duo denies the brokered user: Keycloak refuses and the application gets no code."""
    fed = federation(protocol)
    fed.partner_user("pat")
    fed.tenant.emulator.control.set_user(fed.duo_name("pat"), behavior="deny", enrolled=True)
    before = fed.last_event()
    with pytest.raises(BrokerWalkError, match="Duo denied the sign-in"):
        fed.login("pat")
    assert fed.duo_names(before) == [fed.duo_name("pat")]
    [error] = fed.tenant.events("CUSTOM_REQUIRED_ACTION_ERROR")
    assert error["error"] == "duo_denied"


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_an_application_with_duo_off_has_no_duo_hop(
    federation: FederationFactory, protocol: str
) -> None:
    """A brokered login to an application whose mode is off gets its code without Duo."""
    fed = federation(protocol)
    apps.set_mode(Keycloak.from_settings(fed.tenant.settings), fed.tenant.realm, APP_ID, "off")
    fed.partner_user("pat")
    before = fed.last_event()
    walk = fed.login("pat")
    assert not walk.duo_hop
    assert "duo" not in walk.id_claims
    assert fed.duo_names(before) == []


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_the_remember_window_spans_a_brokered_and_a_local_login(
    federation: FederationFactory, protocol: str
) -> None:
    """One SSO session, a 10-minute window: the brokered login passes Duo; the same user's
    SSO login to a second app does not go to Duo again; a re-authentication the app asks
    for (``prompt=login``, here with the local password) runs Duo again."""
    fed = federation(protocol, remember="10")
    fed.local_user("pat")
    fed.partner_user("pat")
    fed.tenant.emulator.control.set_user("pat", behavior="allow", enrolled=True)
    fed.login("pat", answer=link_account)  # the link, in its own browser
    browser = fed.session()
    before = fed.last_event()
    brokered = fed.login("pat", session=browser)
    assert brokered.duo_hop
    sso = fed.login("pat", session=browser, hint=False, client_id=APP2_ID)
    assert not sso.duo_hop
    assert sso.id_claims["sid"] == brokered.id_claims["sid"]
    assert sso.id_claims["duo"]["txid"] == brokered.id_claims["duo"]["txid"]
    local = fed.login("pat", session=browser, hint=False, prompt="login")
    assert local.duo_hop
    assert local.id_claims["sid"] == brokered.id_claims["sid"]
    assert fed.duo_names(before) == ["pat", "pat"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_username_typed_at_first_login_never_names_the_user_to_duo(
    federation: FederationFactory, protocol: str
) -> None:
    """The partner's bob meets a local bob, reviews the profile and types bob-partner: the
    account is bob-partner, but Duo knows them by the IdP's subject, never bob-partner."""
    fed = federation(protocol)
    fed.local_user("bob")
    fed.partner_user("bob")
    fed.tenant.emulator.control.set_user("bob-partner", behavior="allow", enrolled=True)
    fed.tenant.emulator.control.set_user(fed.duo_name("bob"), behavior="allow", enrolled=True)
    before = fed.last_event()
    walk = fed.login("bob", answer=choose_username("bob-partner"))
    assert walk.id_claims["preferred_username"] == "bob-partner"
    assert fed.duo_names(before) == [fed.duo_name("bob")]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_linking_to_a_local_user_never_skips_that_users_duo(
    federation: FederationFactory, protocol: str
) -> None:
    """The local pat's Duo denies: the link Keycloak already stored gives the partner's pat
    nothing, now or on a later login, since Duo still asks as the local pat."""
    fed = federation(protocol)
    fed.local_user("pat")
    fed.partner_user("pat")
    fed.tenant.emulator.control.set_user("pat", behavior="deny", enrolled=True)
    fed.tenant.emulator.control.set_user(fed.duo_name("pat"), behavior="allow", enrolled=True)
    before = fed.last_event()
    with pytest.raises(BrokerWalkError, match="Duo denied the sign-in"):
        fed.login("pat", answer=link_account)
    assert [link["identityProvider"] for link in fed.links("pat")] == [fed.alias]
    with pytest.raises(BrokerWalkError, match="Duo denied the sign-in"):
        fed.login("pat")
    assert fed.duo_names(before) == ["pat", "pat"]
