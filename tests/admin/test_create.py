"""A new tenant realm in one create call: what it carries, and what follows it."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import tenants, users, wiring
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.admin.tenants import NewTenant
from keycloak_duo_bridge.admin.wiring import Wiring
from keycloak_duo_bridge.attributes import TenantKind
from keycloak_duo_bridge.errors import NotFoundError
from tests.admin.conftest import Names

pytestmark = pytest.mark.keycloak


@pytest.fixture
def calls(kc: Keycloak, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What every adapter call, read or write, was for: one entry per Keycloak request."""
    seen: list[str] = []
    original = kc._call

    def spy(what: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(what)
        return original(what, *args, **kwargs)

    monkeypatch.setattr(kc, "_call", spy)
    return seen


@pytest.fixture
def unlearned(monkeypatch: pytest.MonkeyPatch) -> None:
    """This process has not yet learned Keycloak's defaults from a new realm."""
    monkeypatch.setattr(users, "_defaults", {})
    monkeypatch.setattr(wiring, "_default_actions", {})


@pytest.mark.usefixtures("unlearned")
def test_second_realm_is_one_create_call_plus_its_scope(
    kc: Keycloak, names: Names, wires: Wiring, writes: Counter[str], calls: list[str]
) -> None:
    """The first wired realm teaches the defaults; the next carries profile and action itself."""
    p, q = names("p"), names("q")
    on = {attr.DUO_ENABLED: "true"}
    tenants.new_tenant(kc, NewTenant(TenantKind.PARTNER, p, attributes=on, wires=wires))
    assert writes["register_required_action"] == writes["update_user_profile"] == 1
    writes.clear()
    calls.clear()
    tenant = tenants.new_tenant(kc, NewTenant(TenantKind.PARTNER, q, attributes=on, wires=wires))
    # A fresh token after the create (one from before lacks the new realm's roles), then two
    # calls add the client registration policy (a realm import would drop the defaults).
    assert calls[1] == "log in again"
    assert calls[2:4] == [f"add a component to realm {q!r}"] * 2
    assert calls[4] == f"list the applications of realm {q!r}"  # the only read
    openid = [c for c in kc.get_clients(q) if not c.get("bearerOnly")]
    assert len(calls) == 7 + len(openid) + 1  # the last: get_clients just above
    assert dict(writes) == {
        "create_realm": 1,
        "create_component": 2,
        "create_client_scope": 1,
        "add_default_client_scope": 1,
        "add_client_default_scope": len(openid),
    }
    assert tenant == tenants.get_tenant(kc, q)
    assert kc.get_required_actions(p) == kc.get_required_actions(q)
    assert kc.get_user_profile(p) == kc.get_user_profile(q)
    assert wiring.is_wired(kc, p)
    assert wiring.is_wired(kc, q)
    realm = kc.get_realm(q)
    assert realm["attributes"][attr.BRIDGE_URL] == wires.bridge_url
    assert (realm["adminEventsEnabled"], realm["adminEventsDetailsEnabled"]) == (True, False)
    for name in (p, q):
        tenants.delete_tenant(kc, name)


def test_client_of_a_partner_with_duo_on_is_wired(
    kc: Keycloak, names: Names, wires: Wiring
) -> None:
    """create_client wires a new client realm that inherits "on", and not one that does not."""
    p, a, q, b = names("p"), names("a"), names("q"), names("b")
    tenants.new_tenant(kc, NewTenant(TenantKind.PARTNER, p, attributes={attr.DUO_ENABLED: "true"}))
    tenants.create_partner(kc, q)
    tenants.create_client(kc, a, partner=p, wires=wires)
    tenants.create_client(kc, b, partner=q, wires=wires)
    assert wiring.is_wired(kc, a)
    assert not wiring.is_wired(kc, b)
    assert tenants.create_client(kc, a, partner=p, wires=wires).partner == p  # exists: completes
    assert wiring.is_wired(kc, a)
    for name in (p, q):
        tenants.delete_tenant(kc, name, cascade=True)


def test_template_profile_and_actions_are_kept(
    kc: Keycloak, names: Names, wires: Wiring, tmp_path: Path
) -> None:
    """A template's own user profile and required actions get ours added, not replaced."""
    p, bare = names("p"), names("bare")
    kc.create_realm({"realm": bare})
    profile = kc.get_user_profile(bare)
    kc.delete_realm(bare)
    profile["attributes"] = [a for a in profile["attributes"] if a["name"] != "firstName"]
    body = {
        "realm": "${REALM}",
        "enabled": True,
        "components": {
            users.PROFILE_COMPONENT: [
                {
                    "providerId": "declarative-user-profile",
                    "config": {"kc.user.profile.config": [json.dumps(profile)]},
                }
            ]
        },
        "requiredActions": [
            {"alias": "UPDATE_PASSWORD", "providerId": "UPDATE_PASSWORD", "enabled": True}
        ],
    }
    (tmp_path / "partner.json").write_text(json.dumps(body), encoding="utf-8")
    on = {attr.DUO_ENABLED: "true"}
    new = NewTenant(TenantKind.PARTNER, p, template_dir=tmp_path, attributes=on, wires=wires)
    tenants.new_tenant(kc, new)
    declared = [a["name"] for a in kc.get_user_profile(p)["attributes"]]
    assert "firstName" not in declared
    assert attr.USER_ACTIVATED in declared
    actions = {a["alias"] for a in kc.get_required_actions(p)}
    assert {"UPDATE_PASSWORD", attr.REQUIRED_ACTION} <= actions
    assert "VERIFY_EMAIL" not in actions
    assert wiring.is_wired(kc, p)
    tenants.delete_tenant(kc, p)


@pytest.mark.usefixtures("unlearned")
def test_folding_twice_changes_nothing(kc: Keycloak, names: Names, wires: Wiring) -> None:
    """A representation that already declares activation and the action is left as it is."""
    p = names("p")
    users._defaults[kc.url] = {"attributes": []}
    wiring._default_actions[kc.url] = []
    representation = tenants.create_representation(
        kc, NewTenant(TenantKind.PARTNER, p, wires=wires)
    )
    again = json.loads(json.dumps(representation))
    users.fold_profile(kc, again)
    wiring.fold_actions(kc, again)
    assert again == representation
    assert [a["alias"] for a in representation["requiredActions"]] == [attr.REQUIRED_ACTION]
    assert users.has_profile(representation)


def test_app_modes_at_creation(kc: Keycloak, names: Names, writes: Counter[str]) -> None:
    """Modes are written with the new realm (its kdb.duo.apps); an unknown one is named after."""
    p = names("p")
    modes = {"account": "off", "account-console": "inherit", "nope": "required"}
    with pytest.raises(NotFoundError, match="application 'nope' does not exist"):
        tenants.new_tenant(kc, NewTenant(TenantKind.PARTNER, p, apps=modes))
    assert writes["update_client"] == 0
    stored = kc.get_realm(p)["attributes"][attr.DUO_APPS]
    assert json.loads(stored) == {"account": "off", "nope": "required"}
    tenants.delete_tenant(kc, p)


def test_changes_are_keycloak_admin_events(kc: Keycloak, names: Names) -> None:
    """A change made through the admin service is an admin event of the realm, without details."""
    p = names("p")
    tenants.create_partner(kc, p)
    assert tenants.update_partner(kc, p, display_name="Renamed")
    events = [
        e
        for e in kc.get_admin_events(p)
        if (e["operationType"], e["resourceType"]) == ("UPDATE", "REALM")
    ]
    assert events
    assert events[0]["authDetails"]["userId"]
    assert "representation" not in events[0]
    tenants.delete_tenant(kc, p)
