"""A realm can require brokered users to be known to Duo already: an unknown one is denied
at login instead of enrolling a phone (Duo's Auth API preauth, against the emulator)."""

from __future__ import annotations

import pytest

from keycloak_duo_bridge.admin import auth_api_settings, duo_settings, explain
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.duo.auth_protocol import AuthApiCredentials
from keycloak_duo_bridge.settings import Settings, key_ring
from tests.fixtures_federation import BrokerWalkError, FederationFactory

pytestmark = pytest.mark.keycloak


def test_known_only_denies_a_brokered_user_duo_does_not_know(
    federation: FederationFactory,
    admin_keycloak: Keycloak,
    auth_api_creds: AuthApiCredentials,
    stack_settings: Settings,
) -> None:
    """known-only: a partner user unknown to Duo gets no prompt (so cannot enrol) and no
    code; once Duo knows them, they pass Duo. Without Auth API credentials the login is
    refused as a configuration fault."""
    fed = federation("oidc")
    realm = fed.tenant.realm
    duo_settings.set_policy(
        admin_keycloak, realm, duo_settings.Policy(brokered_enrollment="known-only")
    )
    fed.partner_user("pat")
    with pytest.raises(BrokerWalkError, match="misconfigured"):
        fed.login("pat")  # no Auth API credentials: nothing decided, so no pass
    auth_api_settings.set_auth_api(
        admin_keycloak, realm, creds=auth_api_creds, ring=key_ring(stack_settings), check=None
    )
    duo_settings.set_policy(
        admin_keycloak, realm, duo_settings.Policy(brokered_enrollment="known-only")
    )
    rows = {n: v for n, v, _ in explain.explain(admin_keycloak, realm).rows()}
    assert rows["brokered enrollment"].startswith("known-only")
    before = fed.last_event()
    with pytest.raises(BrokerWalkError, match="denied"):
        fed.login("pat")
    assert fed.duo_names(before) == []
    fed.tenant.emulator.control.set_user(fed.duo_name("pat"), behavior="allow", enrolled=True)
    before = fed.last_event()
    walk = fed.login("pat")
    assert fed.duo_names(before) == [fed.duo_name("pat")]
    assert walk.id_claims["duo"]["result"] == "allow"
