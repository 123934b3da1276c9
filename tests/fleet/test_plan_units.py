"""The pure plan and the apply engine, without Keycloak: edge cases of the diff."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin.effective import link_attribute
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.admin.wiring import Wiring
from keycloak_duo_bridge.envelope import KeyRing, generate_key
from keycloak_duo_bridge.errors import ConfigError
from keycloak_duo_bridge.fleet import export, spec
from keycloak_duo_bridge.fleet.apply import apply_plan
from keycloak_duo_bridge.fleet.plan import (
    Action,
    Change,
    Live,
    LiveRealm,
    Plan,
    RealmPlan,
    make_plan,
)

SKEY = "k" * 40
WIRES = Wiring(bridge_url="https://bridge.test", jwks='{"keys":[]}')


@pytest.fixture
def ring() -> KeyRing:
    """A one-key ring."""
    return KeyRing.from_json(json.dumps({"a": generate_key()}), "a")


def realm(name: str, **attributes: str) -> dict[str, Any]:
    """A realm representation with ``attributes``."""
    return {"realm": name, "id": f"{name}-id", "displayName": name, "attributes": attributes}


def fleet(text: str) -> spec.FleetSpec:
    """A tenant file from text; skey references read SKEY."""
    return spec.parse("version: 1\npartners:\n" + text, Path("f.yaml"), {"S": SKEY})


def test_inherit_unsets_and_no_wires_means_no_wiring(ring: KeyRing) -> None:
    """``inherit`` removes a realm's own value; without wires, wiring is not compared."""
    live = Live(
        {
            "p": LiveRealm(
                realm(
                    "p",
                    **{
                        attr.TENANT_KIND: "partner",
                        attr.DUO_ENABLED: "true",
                        attr.DUO_USER_MODE: "opt-in",
                    },
                )
            )
        }
    )
    plan = make_plan(fleet("  p: {duo: {user_mode: inherit}}\n"), live, ring=ring, wires=None)
    assert plan.realms[0].changes == (Change("duo.user_mode", "opt-in", None),)


def test_secret_that_does_not_decrypt_is_changed(ring: KeyRing) -> None:
    """An skey copied from another realm fails its AAD check, so the plan rewrites it."""
    copied = ring.encrypt(SKEY, realm="other", attribute=attr.DUO_SKEY)
    own = ring.encrypt(SKEY, realm="p", attribute=attr.DUO_SKEY)
    text = "  p: {duo: {ikey: DIAAAAAAAAAAAAAAAAAA, api_host: h.test, skey: 'env:S'}}\n"
    base = {
        attr.TENANT_KIND: "partner",
        attr.DUO_IKEY: "DIAAAAAAAAAAAAAAAAAA",
        attr.DUO_API_HOST: "h.test",
    }
    bad = Live({"p": LiveRealm(realm("p", **base, **{attr.DUO_SKEY: copied}))})
    good = Live({"p": LiveRealm(realm("p", **base, **{attr.DUO_SKEY: own}))})
    assert make_plan(fleet(text), bad, ring=ring, wires=None).realms[0].changes == (
        Change("duo.skey", "(secret)", "(changed)", secret=True),
    )
    assert not make_plan(fleet(text), good, ring=ring, wires=None).has_changes
    assert make_plan(fleet(text), good, ring=None, wires=None).has_changes


def test_wiring_to_another_bridge_is_partial() -> None:
    """A realm wired for another bridge URL plans a rewire; a client follows its partner."""
    partner = {
        attr.TENANT_KIND: "partner",
        attr.DUO_ENABLED: "true",
        attr.TENANT_CLIENT_PREFIX + "c": "c-id",
    }
    client = {
        attr.TENANT_KIND: "client",
        attr.TENANT_PARTNER: "p",
        attr.BRIDGE_URL: "https://old.test",
        attr.BRIDGE_JWKS: WIRES.jwks,
    }
    live = Live(
        {"p": LiveRealm(realm("p", **partner)), "c": LiveRealm(realm("c", **client), wiring="on")}
    )
    plan = make_plan(fleet("  p:\n    clients: {c: {}}\n"), live, ring=None, wires=WIRES)
    assert [r.changes for r in plan.realms] == [
        (Change("duo.wiring", "off", "on"),),
        (Change("duo.wiring", "partial", "on"),),
    ]


def test_a_client_its_partner_does_not_name_plans_the_link() -> None:
    """An existing client without the partner's side of the link (or with another realm's
    id there) plans ``partner_link``; with the proof, nothing."""
    client = {attr.TENANT_KIND: "client", attr.TENANT_PARTNER: "p"}
    tenant_file = fleet("  p:\n    clients: {c: {}}\n")
    for proof, planned in ((None, True), ("someone-else", True), ("c-id", False)):
        partner = {attr.TENANT_KIND: "partner"}
        if proof is not None:
            partner[attr.TENANT_CLIENT_PREFIX + "c"] = proof
        live = Live({"p": LiveRealm(realm("p", **partner)), "c": LiveRealm(realm("c", **client))})
        plan = make_plan(tenant_file, live, ring=None, wires=None)
        expected = (Change("partner_link", None, "proven"),) if planned else ()
        assert plan.realms[1].changes == expected


def test_prune_keeps_a_partner_whose_clients_stay() -> None:
    """A pruned partner whose clients are not pruned is a problem, not a deletion."""
    live = Live(
        {
            "lone-1": LiveRealm(realm("lone-1", **{attr.TENANT_KIND: "partner"})),
            "keep-1": LiveRealm(
                realm("keep-1", **{attr.TENANT_KIND: "client", attr.TENANT_PARTNER: "lone-1"})
            ),
            "other": LiveRealm(realm("other")),
        }
    )
    plan = make_plan(fleet("  p: {}\n"), live, ring=None, wires=None, prune="lone-*")
    assert plan.problems == ("cannot prune partner 'lone-1': its clients keep-1 are kept",)
    assert [r.action for r in plan.realms] == [Action.CREATE]


def test_apply_refuses_problems_and_reports_failures() -> None:
    """A plan with problems applies nothing; a realm that fails is reported, not raised."""
    with pytest.raises(ConfigError, match="the plan has problems"):
        apply_plan(Plan((), ("bad",)), lambda: Keycloak.__new__(Keycloak), ring=None, wires=None)
    tenant = fleet("  p: {duo: {ikey: DIAAAAAAAAAAAAAAAAAA, api_host: h.test, skey: 'env:S'}}\n")
    skey_only = RealmPlan(
        "p",
        tenant.tenants[0].kind,
        Action.UPDATE,
        (Change("duo.skey", None, "x"),),
        spec=tenant.tenants[0],
    )
    outcomes = apply_plan(
        Plan((skey_only,)), lambda: Keycloak.__new__(Keycloak), ring=None, wires=None
    )
    assert outcomes[0].error == "KDB_KEYRING and KDB_ACTIVE_KEY_ID must be set to store skeys"
    client = fleet("  p:\n    clients: {c: {}}\n").tenants[1]
    nothing = (
        RealmPlan("p", tenant.tenants[0].kind, Action.UPDATE, (), spec=tenant.tenants[0]),
        RealmPlan("c", client.kind, Action.UPDATE, (), spec=client),
    )
    outcomes = apply_plan(Plan(nothing), lambda: Keycloak.__new__(Keycloak), ring=None, wires=None)
    assert [o.error for o in outcomes] == [None, None]  # nothing to do, and no call made


def test_export_needs_the_ring_for_a_secrets_dir(tmp_path: Path) -> None:
    """Writing skeys out needs the key ring to decrypt them."""
    with pytest.raises(ConfigError, match="must be set to export skeys"):
        export._skey_reference(
            "r", export._AUTH_API, {attr.AUTH_API_SKEY: "x"}, None, tmp_path, None
        )
    assert export.env_name("north-1.a") == "KDB_SKEY_NORTH_1_A"
    assert export.env_name("north", "KDB_AUTHAPI_SKEY_") == "KDB_AUTHAPI_SKEY_NORTH"


def test_auth_api_keys_plan_by_decryption_and_inherit_removes_them(ring: KeyRing) -> None:
    """Declared Auth API keys: the same stored skey plans nothing, one sealed for the Web SDK
    attribute is changed; ``inherit`` removes the three, the skey shown only as a secret."""
    ikey = "DI" + "B" * 18
    text = f"  p: {{duo: {{auth_api: {{ikey: {ikey}, api_host: h.test, skey: 'env:S'}}}}}}\n"
    base = {attr.TENANT_KIND: "partner", attr.AUTH_API_IKEY: ikey, attr.AUTH_API_HOST: "h.test"}
    own = ring.encrypt(SKEY, realm="p", attribute=attr.AUTH_API_SKEY)
    other = ring.encrypt(SKEY, realm="p", attribute=attr.DUO_SKEY)
    same = Live({"p": LiveRealm(realm("p", **base, **{attr.AUTH_API_SKEY: own}))})
    wrong = Live({"p": LiveRealm(realm("p", **base, **{attr.AUTH_API_SKEY: other}))})
    assert make_plan(fleet(text), same, ring=ring, wires=None).realms[0].changes == ()
    assert make_plan(fleet(text), wrong, ring=ring, wires=None).realms[0].changes == (
        Change("duo.auth_api.skey", "(secret)", "(changed)", secret=True),
    )
    inherit = make_plan(fleet("  p: {duo: {auth_api: inherit}}\n"), same, ring=ring, wires=None)
    assert inherit.realms[0].changes == (
        Change("duo.auth_api.ikey", ikey, None),
        Change("duo.auth_api.api_host", "h.test", None),
        Change("duo.auth_api.skey", "(secret)", None, secret=True),
    )
    bare = Live({"p": LiveRealm(realm("p", **{attr.TENANT_KIND: "partner"}))})
    assert (
        make_plan(fleet("  p: {duo: {auth_api: inherit}}\n"), bare, ring=ring, wires=None)
        .realms[0]
        .changes
        == ()
    )


class CountedReads(Mapping[str, str]):
    """Attributes that count how often they are walked through (each copy walks them)."""

    def __init__(self, values: dict[str, str]) -> None:
        self.inner = values
        self.walks = 0

    def __getitem__(self, key: str) -> str:
        return self.inner[key]

    def __iter__(self) -> Iterator[str]:
        self.walks += 1
        return iter(self.inner)

    def __len__(self) -> int:
        return len(self.inner)


def test_a_plan_reads_the_partners_links_once_however_many_clients() -> None:
    """The partner's attributes (a link per client) are copied once per plan, not once per
    client: a plan of N clients stays linear in N (issue 18)."""
    clients = [f"c{index}" for index in range(40)]
    partner = CountedReads(
        {attr.TENANT_KIND: "partner", **{link_attribute(c): f"{c}-id" for c in clients}}
    )
    realms = {"p": LiveRealm({"realm": "p", "id": "p-id", "attributes": partner})}
    for name in clients:
        realms[name] = LiveRealm(
            realm(name, **{attr.TENANT_KIND: "client", attr.TENANT_PARTNER: "p"})
        )
    text = "  p:\n    clients:\n" + "".join(f"      {c}: {{}}\n" for c in clients)
    plan = make_plan(fleet(text), Live(realms), ring=None, wires=None)
    assert not plan.has_changes
    assert partner.walks <= 2
    found = realms["p"].attributes
    assert found is realms["p"].attributes
    with pytest.raises(TypeError):
        found[attr.TENANT_KIND] = "client"  # type: ignore[index]
