"""Client organizations in the pure plan and the apply step, without Keycloak."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin.effective import organization_scope
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.envelope import KeyRing, generate_key
from keycloak_duo_bridge.errors import ConfigError
from keycloak_duo_bridge.fleet import organization_apply, spec
from keycloak_duo_bridge.fleet.plan import Action, Live, LiveRealm, make_plan

SKEY = "k" * 40
IKEY = "DI" + "A" * 18
FILE = f"""\
version: 1
partners:
  acme:
    clients:
      initech:
        as: organization
        duo: {{ikey: {IKEY}, api_host: api-1.example.com, skey: env:ORG_SKEY}}
"""


@pytest.fixture
def ring() -> KeyRing:
    """A one-key ring."""
    return KeyRing.from_json(json.dumps({"a": generate_key()}), "a")


def fleet(tmp_path: Path) -> spec.FleetSpec:
    """acme with the client organization initech and its own Duo keys."""
    return spec.parse(FILE, tmp_path / "fleet.yaml", {"ORG_SKEY": SKEY})


def live(sealed: str) -> Live:
    """acme holding initech (id o-1) with the Duo keys of FILE and the skey ``sealed``."""
    found = {
        "id": "o-1",
        "name": "initech",
        "description": "initech",
        "attributes": {
            attr.TENANT_KIND: ["client"],
            attr.DUO_IKEY: [IKEY],
            attr.DUO_API_HOST: ["api-1.example.com"],
            attr.DUO_SKEY: [sealed],
        },
    }
    partner = LiveRealm({"realm": "acme", "attributes": {attr.TENANT_KIND: "partner"}})
    return Live({"acme": partner}, {"acme": {"initech": found}})


def test_the_skey_is_compared_sealed_for_its_realm_and_organization(
    tmp_path: Path, ring: KeyRing
) -> None:
    """The stored skey, sealed for acme's organization o-1, plans nothing; the same skey
    sealed for another organization or the realm plans `(changed)`, never its value."""
    same = ring.encrypt(SKEY, realm=organization_scope("acme", "o-1"), attribute=attr.DUO_SKEY)
    plan = make_plan(fleet(tmp_path), live(same), ring=ring, wires=None)
    assert [(r.realm, r.action) for r in plan.realms] == [
        ("acme", Action.NONE),
        ("initech", Action.NONE),
    ]
    for scope in (organization_scope("acme", "o-2"), "acme"):
        other = ring.encrypt(SKEY, realm=scope, attribute=attr.DUO_SKEY)
        changed = make_plan(fleet(tmp_path), live(other), ring=ring, wires=None).realms[1]
        assert changed.action is Action.UPDATE
        assert [c.to_json() for c in changed.changes] == [
            {"attribute": "duo.skey", "before": "(secret)", "after": "(changed)"}
        ]


def test_apply_refuses_an_skey_without_the_key_ring_before_any_call(tmp_path: Path) -> None:
    """A new organization with an skey and no key ring: refused, nothing made (the adapter
    here has no connection, so any call would fail otherwise)."""
    plan = make_plan(fleet(tmp_path), Live({}), ring=None, wires=None)
    keycloak = Keycloak.__new__(Keycloak)
    keycloak.allow_any_duo_host = True
    with pytest.raises(ConfigError, match="KDB_KEYRING and KDB_ACTIVE_KEY_ID must be set"):
        organization_apply.converge(keycloak, plan.realms[1], {}, None, {})
