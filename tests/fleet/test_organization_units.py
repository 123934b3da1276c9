"""Client organizations in the pure plan and the apply step, without Keycloak."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin.effective import organization_scope
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.duo.auth_protocol import AuthApiCredentials
from keycloak_duo_bridge.envelope import KeyRing, generate_key
from keycloak_duo_bridge.errors import ConfigError, DuoConfigError
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


OWN_KEYS = f"{{ikey: {IKEY}, api_host: api-1.example.com, skey: env:ORG_SKEY}}"
CLIENT = {attr.TENANT_KIND: ["client"]}
AUTH_KEYS = {**CLIENT, attr.AUTH_API_IKEY: [IKEY], attr.AUTH_API_HOST: ["api-1.example.com"]}


def declared_with(duo: str, tmp_path: Path) -> spec.FleetSpec:
    """FILE with initech's flow-style ``duo:`` replaced by ``duo``."""
    text = FILE.replace(f"duo: {OWN_KEYS}", f"duo: {duo}")
    return spec.parse(text, tmp_path / "fleet.yaml", {"ORG_SKEY": SKEY})


def changes_for(
    duo: str, stored: dict[str, list[str]], tmp_path: Path, ring: KeyRing | None = None
) -> list[dict[str, object]]:
    """The changes planned for initech declared with ``duo``, against initech (id o-1)
    holding the attributes ``stored``."""
    found = {"id": "o-1", "name": "initech", "description": "initech", "attributes": stored}
    partner = LiveRealm({"realm": "acme", "attributes": {attr.TENANT_KIND: "partner"}})
    live_ = Live({"acme": partner}, {"acme": {"initech": found}})
    planned = make_plan(declared_with(duo, tmp_path), live_, ring=ring, wires=None)
    return [c.to_json() for c in planned.realms[1].changes]


def test_an_organizations_auth_api_skey_is_compared_for_it_and_inherit_removes_it(
    tmp_path: Path, ring: KeyRing
) -> None:
    """Declared Auth API keys: the skey sealed for acme's o-1 plans nothing, sealed for the
    realm plans `(changed)`; `auth_api: inherit` plans the stored keys' removal."""
    auth = f"{{auth_api: {OWN_KEYS}}}"
    for scope, changes in ((organization_scope("acme", "o-1"), []), ("acme", ["(changed)"])):
        sealed = ring.encrypt(SKEY, realm=scope, attribute=attr.AUTH_API_SKEY)
        stored = {**AUTH_KEYS, attr.AUTH_API_SKEY: [sealed]}
        assert [c["after"] for c in changes_for(auth, stored, tmp_path, ring)] == changes
    stored = {**AUTH_KEYS, attr.AUTH_API_SKEY: ["sealed"]}
    assert {
        c["attribute"]: c["after"] for c in changes_for("{auth_api: inherit}", stored, tmp_path)
    } == {
        "duo.auth_api.ikey": None,
        "duo.auth_api.api_host": None,
        "duo.auth_api.skey": None,
    }
    assert changes_for("{auth_api: inherit}", CLIENT, tmp_path) == []


def test_provision_is_planned_until_the_organization_records_its_application(
    tmp_path: Path,
) -> None:
    """`duo: provision` plans a provisioning for an organization with no recorded Duo
    application, and nothing once one is recorded."""
    assert changes_for("provision", CLIENT, tmp_path) == [
        {"attribute": "duo.provision", "before": None, "after": "provision"}
    ]
    recorded = {**CLIENT, attr.DUO_PROVISIONED_IKEY: [IKEY]}
    assert changes_for("{provision: true}", recorded, tmp_path) == []


def test_apply_checks_an_organizations_auth_api_keys_before_any_call(tmp_path: Path) -> None:
    """A new organization whose Auth API keys Duo refuses, or with no key ring: refused,
    nothing made (the adapter here has no connection, so any call would fail otherwise)."""
    declared = declared_with(f"{{auth_api: {OWN_KEYS}}}", tmp_path)
    plan = make_plan(declared, Live({}), ring=None, wires=None)
    keycloak = Keycloak.__new__(Keycloak)
    keycloak.allow_any_duo_host = True

    def refuse(_creds: AuthApiCredentials) -> None:
        raise DuoConfigError("invalid signature")

    with pytest.raises(ConfigError, match="Duo rejected the Auth API credentials, nothing saved"):
        organization_apply.converge(keycloak, plan.realms[1], {}, None, {}, refuse)
    with pytest.raises(ConfigError, match="KDB_KEYRING and KDB_ACTIVE_KEY_ID must be set"):
        organization_apply.converge(keycloak, plan.realms[1], {}, None, {}, None)
