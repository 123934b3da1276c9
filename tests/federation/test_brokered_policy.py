"""Brokered users' Duo name is the realm administrators' choice, through the admin service."""

from __future__ import annotations

import json

import pytest

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import explain
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.cli import main
from keycloak_duo_bridge.sandbox.keycloak import SandboxKeycloak
from tests.fixtures_federation import FederationFactory

pytestmark = pytest.mark.keycloak


def test_the_cli_sets_the_brokered_name_and_explain_shows_it(
    federation: FederationFactory,
    keycloak_sandbox: SandboxKeycloak,
    admin_keycloak: Keycloak,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """explain names a broker-made user idp:<alias>:<subject>; after `duo policy
    --brokered-username account` it shows and Duo gets the account's name."""
    fed = federation("oidc")
    fed.partner_user("pat")
    realm = fed.tenant.realm
    control = fed.tenant.emulator.control
    control.set_user(fed.duo_name("pat"), behavior="allow", enrolled=True)
    control.set_user("pat", behavior="allow", enrolled=True)
    fed.login("pat")
    shown = explain.explain(admin_keycloak, realm, username="pat")
    assert shown.duo_username == fed.duo_name("pat")
    assert shown.decision.requires_duo
    assert "linked to an identity provider" in shown.decision.reason
    rows = {name: value for name, value, _ in shown.rows()}
    assert rows["brokered duo username"].startswith("idp:<alias>:<subject>")

    for name, value in keycloak_sandbox.environment().items():
        monkeypatch.setenv(name, value)
    assert main(["duo", "policy", realm, "--brokered-username", "account"]) == 0
    assert main(["explain", realm, "--user", "pat", "--json"]) == 0
    out = capsys.readouterr().out
    found = json.loads(out[out.index("{") :])
    assert found["duo_username"] == "pat"
    assert found["settings"]["brokered_duo_username"]["origin"] == f"client realm ({realm})"
    assert admin_keycloak.get_realm(realm)["attributes"][attr.DUO_BROKERED_USERNAME] == "account"
    before = fed.last_event()
    fed.login("pat")
    assert fed.duo_names(before) == ["pat"]
    assert main(["duo", "policy", realm, "--brokered-username", "typed"]) != 0
