"""Per identity-provider Duo policy on real Keycloak: trusting a partner IdP's own MFA when
its token proves it, falling back to Duo when it does not, and ``off`` with confirmation."""

from __future__ import annotations

import pytest

from keycloak_duo_bridge.admin import idps
from keycloak_duo_bridge.admin.idp_policy import policy_of
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.errors import ConfigError
from tests.fixtures_federation import FederationFactory

pytestmark = pytest.mark.keycloak


def test_a_trusted_oidc_idp_with_amr_mfa_spares_the_duo_prompt(
    federation: FederationFactory, admin_keycloak: Keycloak
) -> None:
    """The partner's ID token says amr mfa and the realm trusts that IdP for amr mfa: no
    Duo prompt, duo.result upstream with the alias and the proof, amr gains mfa."""
    fed = federation("oidc")
    fed.partner_user("pat")
    fed.upstream_claim("amr", '["mfa","otp"]', "JSON")
    trusted = policy_of("trust-upstream-mfa", amr=["mfa"])
    assert idps.set_idp_policy(admin_keycloak, fed.tenant.realm, fed.alias, trusted)
    before = fed.last_event()
    walk = fed.login("pat")
    assert fed.duo_names(before) == []
    duo = walk.id_claims["duo"]
    assert duo["result"] == "upstream"
    assert duo["reason"] == "upstream_mfa"
    assert duo["idp"] == fed.alias
    assert duo["proof"] == "amr:mfa"
    assert {"mfa", "otp"} <= set(walk.id_claims["amr"])
    assert walk.id_claims["acr"] == "mfa"


def test_a_trusted_idp_without_the_proof_falls_back_to_duo(
    federation: FederationFactory, admin_keycloak: Keycloak
) -> None:
    """The same trust, but the partner's token carries no amr mfa (nor the acr asked for):
    Duo runs, and the result is Duo's own allow."""
    fed = federation("oidc")
    fed.partner_user("pat")
    fed.upstream_claim("amr", '["pwd"]', "JSON")
    trusted = policy_of("trust-upstream-mfa", amr=["mfa", "hwk"], acr=["gold"])
    idps.set_idp_policy(admin_keycloak, fed.tenant.realm, fed.alias, trusted)
    fed.tenant.emulator.control.set_user(fed.duo_name("pat"), behavior="allow", enrolled=True)
    before = fed.last_event()
    walk = fed.login("pat")
    assert fed.duo_names(before) == [fed.duo_name("pat")]
    assert walk.id_claims["duo"]["result"] == "allow"
    assert "idp" not in walk.id_claims["duo"]


def test_a_trusted_acr_counts_as_proof(
    federation: FederationFactory, admin_keycloak: Keycloak
) -> None:
    """An acr on the allow-list proves the upstream MFA too."""
    fed = federation("oidc")
    fed.partner_user("pat")
    fed.upstream_claim("acr", "gold")
    trusted = policy_of("trust-upstream-mfa", acr=["gold"])
    idps.set_idp_policy(admin_keycloak, fed.tenant.realm, fed.alias, trusted)
    before = fed.last_event()
    walk = fed.login("pat")
    assert fed.duo_names(before) == []
    assert walk.id_claims["duo"]["proof"] == "acr:gold"


def test_off_needs_a_confirmation_and_then_skips_duo(
    federation: FederationFactory, admin_keycloak: Keycloak
) -> None:
    """off without confirmation is refused and changes nothing; confirmed, a login through
    the IdP skips Duo (skip, idp_off), while a local login still passes Duo."""
    fed = federation("oidc")
    fed.partner_user("pat")
    realm = fed.tenant.realm
    before_attrs = admin_keycloak.get_realm(realm)["attributes"]
    with pytest.raises(ConfigError, match="confirm"):
        idps.set_idp_policy(admin_keycloak, realm, fed.alias, policy_of("off"))
    assert admin_keycloak.get_realm(realm)["attributes"] == before_attrs
    assert idps.set_idp_policy(admin_keycloak, realm, fed.alias, policy_of("off"), confirm_off=True)
    before = fed.last_event()
    walk = fed.login("pat")
    assert fed.duo_names(before) == []
    assert walk.id_claims["duo"]["result"] == "skip"
    assert walk.id_claims["duo"]["reason"] == "idp_off"
    fed.local_user("lou")
    fed.tenant.emulator.control.set_user("lou", behavior="allow", enrolled=True)
    before = fed.last_event()
    local = fed.login("lou", hint=False)
    assert fed.duo_names(before) == ["lou"]
    assert local.id_claims["duo"]["result"] == "allow"
