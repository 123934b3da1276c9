"""Brokered logins in a "step-up" realm, on real Keycloak: the realm's Duo decision holds.

A login through an identity provider ends Keycloak's browser flow at the identity provider
redirector, before the level-2 Duo step, so the required action sends it to Duo as in
"enforce"; its tokens then carry the Duo pass in ``acr`` and ``amr``.
"""

from __future__ import annotations

import pytest

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import apps, duo_settings, idps
from keycloak_duo_bridge.admin.idp_policy import policy_of
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.admin.wiring import Wiring
from tests.fixtures_bridge import APP_ID
from tests.fixtures_federation import Federation, FederationFactory

pytestmark = pytest.mark.keycloak


def step_up(fed: Federation) -> Keycloak:
    """Switch the federation's client realm to the "step-up" assurance mode."""
    keycloak = Keycloak.from_settings(fed.tenant.settings)
    published = keycloak.get_realm(fed.tenant.realm)["attributes"]
    wires = Wiring(published[attr.BRIDGE_URL], published[attr.BRIDGE_JWKS])
    duo_settings.set_enabled(
        keycloak, fed.tenant.realm, enabled=True, wires=wires, assurance="step-up"
    )
    return keycloak


@pytest.mark.parametrize("protocol", ["oidc", "saml"])
def test_a_brokered_login_in_step_up_passes_duo_and_claims_mfa(
    federation: FederationFactory, protocol: str
) -> None:
    """Brokered into a step-up realm, the user passes Duo; acr is mfa and amr lists mfa, also
    when the application asks acr_values=mfa."""
    fed = federation(protocol)
    step_up(fed)
    fed.partner_user("pat")
    fed.tenant.emulator.control.set_user(fed.duo_name("pat"), behavior="allow", enrolled=True)
    before = fed.last_event()
    plain = fed.login("pat")
    assert plain.duo_hop
    assert plain.id_claims["duo"]["result"] == "allow"
    assert plain.id_claims["acr"] == "mfa"
    assert "mfa" in plain.id_claims["amr"]
    assert fed.duo_names(before) == [fed.duo_name("pat")]
    asked = fed.login("pat", acr_values="mfa")
    assert asked.duo_hop
    assert (asked.id_claims["acr"], "mfa" in asked.id_claims["amr"]) == ("mfa", True)


def test_a_brokered_login_in_step_up_to_an_app_with_duo_off_has_no_duo_hop(
    federation: FederationFactory,
) -> None:
    """In a step-up realm, an application whose mode is off gets a brokered login's code
    without Duo, and its acr stays below mfa."""
    fed = federation("oidc")
    keycloak = step_up(fed)
    apps.set_mode(keycloak, fed.tenant.realm, APP_ID, "off")
    fed.partner_user("pat")
    before = fed.last_event()
    walk = fed.login("pat", acr_values="mfa")
    assert not walk.duo_hop
    assert walk.id_claims.get("acr") != "mfa"
    assert fed.duo_names(before) == []


def test_a_trusted_upstream_mfa_counts_in_step_up_too(
    federation: FederationFactory, admin_keycloak: Keycloak
) -> None:
    """In a step-up realm, an IdP trusted for amr mfa whose token proves it spares the Duo
    prompt as in enforce: duo.result upstream, acr mfa."""
    fed = federation("oidc")
    step_up(fed)
    fed.partner_user("pat")
    fed.upstream_claim("amr", '["mfa","otp"]', "JSON")
    trusted = policy_of("trust-upstream-mfa", amr=["mfa"])
    assert idps.set_idp_policy(admin_keycloak, fed.tenant.realm, fed.alias, trusted)
    before = fed.last_event()
    walk = fed.login("pat", acr_values="mfa")
    assert fed.duo_names(before) == []
    assert walk.id_claims["duo"]["result"] == "upstream"
    assert walk.id_claims["acr"] == "mfa"
