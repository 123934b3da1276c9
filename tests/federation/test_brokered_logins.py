"""Brokered logins through Duo, on real Keycloak: a second realm is the partner's IdP."""

from __future__ import annotations

import pytest

from tests.fixtures_federation import FederationFactory

pytestmark = pytest.mark.keycloak

PROTOCOLS = ["oidc", "saml"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_first_broker_login_creates_the_user_and_runs_duo(
    federation: FederationFactory, protocol: str
) -> None:
    """A partner user's first login creates the local user, then Duo runs before the code."""
    fed = federation(protocol)
    fed.partner_user("pat")
    fed.tenant.emulator.control.set_user("pat", behavior="allow", enrolled=True)
    before = fed.last_event()
    walk = fed.login("pat")
    assert walk.duo_hop
    assert walk.id_claims["duo"]["result"] == "allow"
    assert fed.duo_names(before) == ["pat"]
    [link] = fed.links("pat")
    assert link["identityProvider"] == fed.alias
