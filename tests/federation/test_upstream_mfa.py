"""Per identity-provider Duo policy on real Keycloak: trusting a partner IdP's own MFA when
its token proves it, falling back to Duo when it does not, and ``off`` with confirmation."""

from __future__ import annotations

import json

import pytest

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import explain, idps
from keycloak_duo_bridge.admin.effective import PolicyOutcome
from keycloak_duo_bridge.admin.idp_policy import policy_of
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.cli import main
from keycloak_duo_bridge.errors import ConfigError
from keycloak_duo_bridge.sandbox.keycloak import SandboxKeycloak
from tests.fixtures_federation import Federation, FederationFactory

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


SAML_UNSPECIFIED = "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified"
SAML_TWO_FACTOR = "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract"


def store_tokens(fed: Federation) -> None:
    """Keycloak keeps the SAML response it validated on the user's link ("Store tokens")."""
    admin = fed.tenant.admin()
    idp = admin.get_idp(fed.alias)
    admin.update_idp(fed.alias, {**idp, "storeToken": True})


@pytest.mark.parametrize(
    ("allowed", "outcome"), [(SAML_UNSPECIFIED, "upstream"), (SAML_TWO_FACTOR, "allow")]
)
def test_a_saml_context_class_on_the_allow_list_is_trusted(
    federation: FederationFactory, admin_keycloak: Keycloak, allowed: str, outcome: str
) -> None:
    """The partner's SAML IdP (Keycloak) states its AuthnContextClassRef: on the realm's
    allow-list, no Duo prompt and duo.result upstream with a saml proof; not on it, Duo."""
    fed = federation("saml")
    store_tokens(fed)
    fed.partner_user("pat")
    policy = policy_of("trust-upstream-mfa", saml_context=[allowed])
    idps.set_idp_policy(admin_keycloak, fed.tenant.realm, fed.alias, policy)
    fed.tenant.emulator.control.set_user(fed.duo_name("pat"), behavior="allow", enrolled=True)
    before = fed.last_event()
    walk = fed.login("pat")
    assert walk.id_claims["duo"]["result"] == outcome
    if outcome == "upstream":
        assert fed.duo_names(before) == []
        assert walk.id_claims["duo"]["proof"] == f"saml:{allowed}"
    else:
        assert fed.duo_names(before) == [fed.duo_name("pat")]


def test_the_cli_and_the_api_set_the_policy_and_explain_flags_off(
    federation: FederationFactory,
    keycloak_sandbox: SandboxKeycloak,
    admin_keycloak: Keycloak,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`idp policy` sets trust with its proof and refuses off unconfirmed or an unknown IdP
    (exit 1, nothing written); `idp list` shows it; explain flags a confirmed off; duo
    removes the entry."""
    fed = federation("oidc")
    realm = fed.tenant.realm
    for name, value in keycloak_sandbox.environment().items():
        monkeypatch.setenv(name, value)
    trust = ["idp", "policy", realm, fed.alias, "trust-upstream-mfa", "--amr", "mfa"]
    assert main([*trust, "--acr", "gold"]) == 0
    assert main(["idp", "list", realm, "--json"]) == 0
    out = capsys.readouterr().out
    listed = json.loads(out[out.index("[") :])
    assert listed == [
        {"alias": fed.alias, "mode": "trust-upstream-mfa", "amr": ["mfa"], "acr": ["gold"]}
    ]
    stored = admin_keycloak.get_realm(realm)["attributes"][attr.DUO_IDPS]
    assert main(["idp", "policy", realm, fed.alias, "off"]) != 0
    assert main(["idp", "policy", realm, "nobody", "off", "--confirm-off"]) != 0
    assert main(["idp", "policy", realm, fed.alias, "trust-upstream-mfa"]) != 0
    assert admin_keycloak.get_realm(realm)["attributes"][attr.DUO_IDPS] == stored
    assert main(["idp", "policy", realm, fed.alias, "off", "--confirm-off"]) == 0
    shown = explain.explain(admin_keycloak, realm, idp=fed.alias)
    assert shown.decision.outcome is PolicyOutcome.IDP_OFF
    assert any("is off" in problem for problem in shown.problems())
    assert main(["idp", "list", realm]) == 0
    assert "trust-upstream-mfa" not in capsys.readouterr().out.split("ALIAS")[-1]
    assert main(["idp", "policy", realm, fed.alias, "duo", "--json"]) == 0
    assert attr.DUO_IDPS not in admin_keycloak.get_realm(realm)["attributes"]
